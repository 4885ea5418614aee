#include "common.h"

// Image-space ops of filter visualization: random affine resampling (jitter, scale, rotation; MaCo's crops) and the
// L2 and total-variation regularizers. Input images are N·C planes of H×W; each is resampled K times into output
// images of OH×OW, output image n·K + k reading input image n. `maps` holds 6 floats per output image
// (a, b, tx, c, d, ty): output pixel (x, y), relative to the output's centre, reads input (a·x + b·y + tx,
// c·x + d·y + ty) relative to the input's centre.

// Global size (OW, OH, N·K·C): bilinear sample, `fill` outside the input.
__kernel void affine_resample_forward(__global const float* x, __global const float* maps, __global float* y,
                                      int PLANES, int C, int H, int W, int K, int OH, int OW, float fill) {
    const int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= OW || oy >= OH || plane >= PLANES) return;
    const int image = plane / C;
    __global const float* m = maps + image * 6;
    const float cx = 0.5f * (float)(W - 1), cy = 0.5f * (float)(H - 1);
    const float px = (float)ox - 0.5f * (float)(OW - 1), py = (float)oy - 0.5f * (float)(OH - 1);
    const float sx = m[0] * px + m[1] * py + m[2] + cx, sy = m[3] * px + m[4] * py + m[5] + cy;
    const int x0 = (int)floor(sx), y0 = (int)floor(sy);
    const float fx = sx - (float)x0, fy = sy - (float)y0;
    __global const float* input = x + ((size_t)(image / K) * C + plane % C) * H * W;
    float value = 0.0f;
    for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
            const int ix = x0 + dx, iy = y0 + dy;
            const float weight = (dx ? fx : 1.0f - fx) * (dy ? fy : 1.0f - fy);
            const bool inside = ix >= 0 && ix < W && iy >= 0 && iy < H;
            value += weight * (inside ? input[iy * W + ix] : fill);
        }
    }
    y[((size_t)plane * OH + oy) * OW + ox] = value;
}

// Global size (W, H, N·C): each input pixel gathers dy·weight from the output pixels of its K resamplings whose
// sample point lies within one pixel of it (no atomics, so the result is deterministic). Those lie in the preimage
// of that 2×2 square, a parallelogram around the pixel's preimage whose half-extents are the row sums of |A⁻¹|:
// about 1.3 px at Lucid's scale and rotation, so 3 × 3 candidates are visited rather than the (2·REACH + 1)² of the
// bounding square (REACH still bounds the search).
__kernel void affine_resample_backward(__global const float* dy, __global const float* maps, __global float* dx,
                                       int PLANES, int C, int H, int W, int K, int OH, int OW, int REACH) {
    const int ix = get_global_id(0), iy = get_global_id(1), plane = get_global_id(2);
    if (ix >= W || iy >= H || plane >= PLANES) return;
    const float cx = 0.5f * (float)(W - 1), cy = 0.5f * (float)(H - 1);
    const float outCX = 0.5f * (float)(OW - 1), outCY = 0.5f * (float)(OH - 1);
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) {
        const int image = (plane / C) * K + k;
        __global const float* m = maps + image * 6;
        const float determinant = m[0] * m[4] - m[1] * m[3];
        const float qx = (float)ix - cx - m[2], qy = (float)iy - cy - m[5];
        const float centreX = (m[4] * qx - m[1] * qy) / determinant + outCX;
        const float centreY = (-m[3] * qx + m[0] * qy) / determinant + outCY;
        const float extentX = (fabs(m[4]) + fabs(m[1])) / fabs(determinant);
        const float extentY = (fabs(m[3]) + fabs(m[0])) / fabs(determinant);
        const int roundX = (int)round(centreX), roundY = (int)round(centreY);
        // Output pixels on the parallelogram's edge have weight 0; the margin keeps float rounding of the centre
        // from dropping one just inside it.
        const int firstX = max(max(0, roundX - REACH), (int)ceil(centreX - extentX - 1e-3f));
        const int lastX = min(min(OW - 1, roundX + REACH), (int)floor(centreX + extentX + 1e-3f));
        const int firstY = max(max(0, roundY - REACH), (int)ceil(centreY - extentY - 1e-3f));
        const int lastY = min(min(OH - 1, roundY + REACH), (int)floor(centreY + extentY + 1e-3f));
        __global const float* gradient = dy + ((size_t)image * C + plane % C) * OH * OW;
        for (int oy = firstY; oy <= lastY; ++oy) {
            for (int ox = firstX; ox <= lastX; ++ox) {
                const float px = (float)ox - outCX, py = (float)oy - outCY;
                const float sx = m[0] * px + m[1] * py + m[2] + cx, sy = m[3] * px + m[4] * py + m[5] + cy;
                const float weight = fmax(0.0f, 1.0f - fabs(sx - (float)ix)) * fmax(0.0f, 1.0f - fabs(sy - (float)iy));
                acc += weight * gradient[oy * OW + ox];
            }
        }
    }
    dx[((size_t)plane * H + iy) * W + ix] = acc;
}

inline float sign_of(float v) {
    return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
}

// Global size (W, H, PLANES): out = g − l2·2(x − ½) − tv·∂TV/∂x, TV = Σ |x[h,w+1] − x[h,w]| + |x[h+1,w] − x[h,w]|.
__kernel void image_penalty_backward(__global const float* x, __global const float* g, __global float* out,
                                     int PLANES, int H, int W, float l2, float tv) {
    const int w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
    if (w >= W || h >= H || plane >= PLANES) return;
    __global const float* image = x + (size_t)plane * H * W;
    const float v = image[h * W + w];
    float total = 0.0f;
    if (w > 0) total += sign_of(v - image[h * W + w - 1]);
    if (w < W - 1) total -= sign_of(image[h * W + w + 1] - v);
    if (h > 0) total += sign_of(v - image[(h - 1) * W + w]);
    if (h < H - 1) total -= sign_of(image[(h + 1) * W + w] - v);
    const size_t i = ((size_t)plane * H + h) * W + w;
    out[i] = g[i] - l2 * 2.0f * (v - 0.5f) - tv * total;
}

// Position i's step to its right and lower neighbours (0 past the last column or row) and the slope
// β·(dx² + dy²)^(β/2 − 1) of its total-variation term; a flat spot has slope 0 when β < 2 (the kink's subgradient).
inline float3 variation_term(__global const float* image, int h, int w, int H, int W, float beta) {
    const float v = image[h * W + w];
    const float dx = w < W - 1 ? image[h * W + w + 1] - v : 0.0f;
    const float dy = h < H - 1 ? image[(h + 1) * W + w] - v : 0.0f;
    const float base = dx * dx + dy * dy;
    return (float3)(dx, dy, base > 0.0f || beta >= 2.0f ? beta * pow(base, 0.5f * beta - 1.0f) : 0.0f);
}

// Global size (W, H, PLANES): out = g − ∂R/∂x for Mahendran & Vedaldi's priors about `center` (one per channel):
// R = A·Σ_pixels ‖x − c‖^α (the pixel's colour vector) + T·Σ(dx² + dy²)^(β/2), A and T already divided by
// H·W·B^α and H·W·V^β on the host.
__kernel void natural_prior_backward(__global const float* x, __global const float* center, __global const float* g,
                                     __global float* out, int PLANES, int C, int H, int W,
                                     float normWeight, float alpha, float tvWeight, float beta) {
    const int w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
    if (w >= W || h >= H || plane >= PLANES) return;
    __global const float* image = x + (size_t)plane * H * W;
    __global const float* pixel = x + (size_t)(plane - plane % C) * H * W + h * W + w;
    float squared = 0.0f;
    for (int c = 0; c < C; ++c) {
        const float v = pixel[(size_t)c * H * W] - center[c];
        squared += v * v;
    }
    const float u = image[h * W + w] - center[plane % C];
    const float norm = squared > 0.0f || alpha >= 2.0f ? alpha * pow(squared, 0.5f * alpha - 1.0f) * u : 0.0f;
    const float3 own = variation_term(image, h, w, H, W, beta);
    float variation = -own.z * (own.x + own.y);
    if (w > 0) {
        const float3 left = variation_term(image, h, w - 1, H, W, beta);
        variation += left.z * left.x;
    }
    if (h > 0) {
        const float3 above = variation_term(image, h - 1, w, H, W, beta);
        variation += above.z * above.y;
    }
    const size_t i = ((size_t)plane * H + h) * W + w;
    out[i] = g[i] - normWeight * norm - tvWeight * variation;
}

// SplitMix64's draw `index` of the generator seeded with `seed` (SeededGenerator.next(): the state only adds the
// golden gamma, so any draw is computed on its own).
inline ulong splitmix64(ulong seed, ulong index) {
    ulong z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    return z ^ (z >> 31);
}

// Global size (COUNT): x[i] += scale · normal(first + i), normal j = SeededGenerator.nextNormal() number j (Box–Muller
// on draws 2j and 2j + 1, 53-bit uniforms), in float32. −2·log(u1) is taken from u1 below ½ and from 1 − u1 above it,
// so neither end loses its precision to float rounding; u1 = 0 takes the host's floor (the least positive double).
__kernel void add_seeded_normal(__global float* x, int seedLow, int seedHigh, int firstLow, int firstHigh, float scale,
                                int COUNT) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    const ulong seed = ((ulong)(uint)seedHigh << 32) | (uint)seedLow;
    const ulong normal = (((ulong)(uint)firstHigh << 32) | (uint)firstLow) + (ulong)i;
    const ulong k1 = splitmix64(seed, 2 * normal) >> 11, k2 = splitmix64(seed, 2 * normal + 1) >> 11;
    const float unit = 0x1.0p-53f;
    float squaredRadius;
    if (k1 == 0) {
        squaredRadius = 1488.8801f;  // −2·log(4.9e−324)
    } else if (k1 < (1UL << 52)) {
        squaredRadius = -2.0f * log((float)k1 * unit);
    } else {
        squaredRadius = -2.0f * log1p(-(float)((1UL << 53) - k1) * unit);
    }
    x[i] += scale * sqrt(squaredRadius) * cospi(2.0f * (float)k2 * unit);
}
