// ROAD's linear imputation (pytorch-grad-cam's NoisyLinearImputer, without its noise). In each plane the removed
// pixels i solve  d_i·x_i − Σ_{removed j} w_ij·x_j = Σ_{kept j} w_ij·image_j  over the in-bounds 8-neighbours j
// (w 1/6 for a side, 1/12 for a corner; d_i the sum of i's in-bounds weights): a symmetric positive (semi-)definite
// system, solved by conjugate gradients inside one work-group per plane, so a whole solve is one launch.
//
// Every vector lives on the full H×W grid and is zero at kept pixels: the product is a 9-point stencil masked to
// the removed pixels, and the vector updates need no mask at all (p and q vanish where a pixel is kept). Work-items
// take whole rows; a row's interior runs 8 columns at a time as float8 (straight-line vector code on a CPU), its
// edges and the plane's first and last rows through the general per-pixel stencil.

#include "common.h"

#define IMPUTE_MAX_GROUP 256
#define IMPUTE_SIDE (1.0f / 6.0f)
#define IMPUTE_CORNER (1.0f / 12.0f)

// Σ w_ij·v[j] over the in-bounds neighbours j of (h, w), counting only those with mask[j] != 0 when a mask is
// given; `diagonal` receives Σ w_ij over all in-bounds neighbours.
inline float impute_stencil(__global const float* v, __global const float* mask, int h, int w, int H, int W,
                            float* diagonal) {
    float total = 0.0f, weights = 0.0f;
    for (int dy = -1; dy <= 1; ++dy) {
        const int r = h + dy;
        if (r < 0 || r >= H) continue;
        for (int dx = -1; dx <= 1; ++dx) {
            const int c = w + dx;
            if ((dx == 0 && dy == 0) || c < 0 || c >= W) continue;
            const float weight = (dx == 0 || dy == 0) ? IMPUTE_SIDE : IMPUTE_CORNER;
            weights += weight;
            if (mask == 0 || mask[r * W + c] != 0.0f) total += weight * v[r * W + c];
        }
    }
    *diagonal = weights;
    return total;
}

// q = M·p on one pixel, 0 where it is kept; returns p·q there.
inline float impute_product_at(__global const float* p, __global float* q, __global const float* mask, int i,
                               int H, int W) {
    float diagonal;
    const float coupled = impute_stencil(p, 0, i / W, i % W, H, W, &diagonal);
    const float product = mask[i] != 0.0f ? 0.0f : diagonal * p[i] - coupled;
    q[i] = product;
    return p[i] * product;
}

// q = M·p on row h; returns Σ p·q over the row. Interior pixels have every neighbour in bounds (d = 1).
inline float impute_product_row(__global const float* p, __global float* q, __global const float* mask, int h,
                                int H, int W) {
    const int start = h * W;
    if (h == 0 || h == H - 1 || W < 3) {
        float total = 0.0f;
        for (int w = 0; w < W; ++w) total += impute_product_at(p, q, mask, start + w, H, W);
        return total;
    }
    float total = impute_product_at(p, q, mask, start, H, W);
    float8 sums = 0.0f;
    int w = 1;
    for (; w + 8 <= W - 1; w += 8) {
        const int i = start + w;
        const float8 sides = vload8(0, p + i - 1) + vload8(0, p + i + 1) + vload8(0, p + i - W) + vload8(0, p + i + W);
        const float8 corners = vload8(0, p + i - W - 1) + vload8(0, p + i - W + 1) + vload8(0, p + i + W - 1)
                             + vload8(0, p + i + W + 1);
        const float8 centre = vload8(0, p + i);
        const float8 removed = select((float8)0.0f, (float8)1.0f, isequal(vload8(0, mask + i), (float8)0.0f));
        const float8 product = removed * (centre - (IMPUTE_SIDE * sides + IMPUTE_CORNER * corners));
        vstore8(product, 0, q + i);
        sums += centre * product;
    }
    for (; w < W; ++w) total += impute_product_at(p, q, mask, start + w, H, W);
    return total + (sums.s0 + sums.s1) + (sums.s2 + sums.s3) + (sums.s4 + sums.s5) + (sums.s6 + sums.s7);
}

// x += step·p and r −= step·q on row h; returns Σ r² over the row.
inline float impute_update_row(__global float* x, __global float* r, __global const float* p,
                               __global const float* q, float step, int start, int W) {
    float8 sums = 0.0f;
    int w = 0;
    for (; w + 8 <= W; w += 8) {
        const int i = start + w;
        vstore8(vload8(0, x + i) + step * vload8(0, p + i), 0, x + i);
        const float8 residual = vload8(0, r + i) - step * vload8(0, q + i);
        vstore8(residual, 0, r + i);
        sums += residual * residual;
    }
    float total = 0.0f;
    for (; w < W; ++w) {
        x[start + w] += step * p[start + w];
        r[start + w] -= step * q[start + w];
        total += r[start + w] * r[start + w];
    }
    return total + (sums.s0 + sums.s1) + (sums.s2 + sums.s3) + (sums.s4 + sums.s5) + (sums.s6 + sums.s7);
}

// Global (G, V·C), local (G, 1), G a power of two ≤ IMPUTE_MAX_GROUP: one work-group per plane; should the
// runtime split a row into several groups, all but the first leave at once. `scratch` holds the residual, the
// search direction and their product, 3·V·C·H·W floats. Stops when ‖r‖ ≤ tolerance·‖b‖ or after `limit`
// iterations.
__kernel void linear_impute(__global const float* image, __global const float* known, __global float* output,
                            __global float* scratch, int V, int C, int H, int W, int sharesImage, int limit,
                            float tolerance) {
    __local float sums[IMPUTE_MAX_GROUP];
    const int plane = get_global_id(1);
    if (get_group_id(0) != 0 || plane >= V * C) return;
    const int id = get_local_id(0), size = get_local_size(0), P = H * W, v = plane / C, c = plane % C;
    const size_t planes = (size_t)V * C * P;
    __global const float* source = image + ((size_t)(sharesImage ? 0 : v) * C + c) * P;
    __global const float* mask = known + (size_t)v * P;
    __global float* x = output + (size_t)plane * P;
    __global float* r = scratch + (size_t)plane * P;
    __global float* p = r + planes;
    __global float* q = p + planes;

    // x = the kept pixels (0 where removed), r = p = b.
    float part = 0.0f, diagonal;
    for (int i = id; i < P; i += size) {
        const bool kept = mask[i] != 0.0f;
        const float b = kept ? 0.0f : impute_stencil(source, mask, i / W, i % W, H, W, &diagonal);
        x[i] = kept ? source[i] : 0.0f;
        r[i] = b;
        p[i] = b;
        part += b * b;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    float squared = group_sum(part, sums);
    const float target = squared * tolerance * tolerance;
    for (int iteration = 0; iteration < limit && squared > target; ++iteration) {
        part = 0.0f;
        for (int h = id; h < H; h += size) part += impute_product_row(p, q, mask, h, H, W);
        const float curvature = group_sum(part, sums);
        if (!(curvature > 0.0f)) break;
        const float step = squared / curvature;
        part = 0.0f;
        for (int h = id; h < H; h += size) part += impute_update_row(x, r, p, q, step, h * W, W);
        const float next = group_sum(part, sums);
        const float ratio = next / squared;
        // Every neighbour's read of p in the product above comes before any write below.
        barrier(CLK_GLOBAL_MEM_FENCE);
        for (int h = id; h < H; h += size) {
            for (int i = h * W; i < (h + 1) * W; ++i) p[i] = r[i] + ratio * p[i];
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
        squared = next;
    }
}
