// Shared by every ConvLens kernel file (inlined by KernelSourceSet at load time).
// Conventions: float32, NCHW, row-major; every work-item guards its index because launchers round the global
// size up to a multiple of the work-group size; structural parameters arrive as -D defines.

#ifndef CONVLENS_COMMON_H
#define CONVLENS_COMMON_H

// Index of element (n, c, h, w) in an N×C×H×W tensor.
#define NCHW_INDEX(n, c, h, w, C, H, W) ((((n) * (C) + (c)) * (H) + (h)) * (W) + (w))

// max(x, 0) and clamp that keep NaN, as PyTorch's relu and clamp do: fmax/fmin (and OpenCL's clamp) return the
// other operand for a NaN, which would turn a NaN activation into a confident number.
inline float positive_part(float x) { return x < 0.0f ? 0.0f : x; }
inline float clamp_nan(float x, float low, float high) { return x < low ? low : (x > high ? high : x); }

// erf to about 2e-7 relative, written out because PoCL's erf is a scalar library call per element (0.8 GB/s on
// ViT's GELU, 9 ns an element): below |x| = 0.5 the Taylor series to x¹³ (the next term is under 1e-9 of the sum);
// above, 1 − erfc(|x|) with erfc from Numerical Recipes' Chebyshev fit (fractional error under 1.2e-7), whose
// cancellation is harmless there since erf ≥ 0.52. NaN stays NaN; ±∞ gives ±1.
inline float erf_float(float x) {
    const float a = fabs(x);
    if (a < 0.5f) {
        const float z = x * x;
        return x * (1.12837917f + z * (-0.376126389f + z * (0.112837917f + z * (-0.0268661706f
               + z * (0.00522397763f + z * (-0.000854832702f + z * 0.000120553330f))))));
    }
    const float t = 1.0f / (1.0f + 0.5f * a);
    const float erfc = t * exp(-a * a - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f
                       + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f
                       + t * (-0.82215223f + t * 0.17087277f)))))))));
    return copysign(1.0f - erfc, x);
}

// The sum of a float8's lanes: the halves added lane by lane, then those four in pairs (the depthwise weight
// gradient's and the softmax rows' final sums).
inline float lane_sum8(float8 v) {
    const float4 halves = v.lo + v.hi;
    return (halves.s0 + halves.s1) + (halves.s2 + halves.s3);
}

// The sum of every work-item's `value` in a one-dimensional work-group whose size is a power of two, returned to
// all of them; `scratch` holds one float per work-item. Every work-item of the group must call it.
inline float group_sum(float value, __local float* scratch) {
    const int id = get_local_id(0);
    scratch[id] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = (int)get_local_size(0) / 2; span > 0; span /= 2) {
        if (id < span) scratch[id] += scratch[id + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

#endif
