// Shared by every ConvLens kernel file (inlined by KernelSourceSet at load time).
// Conventions: float32, NCHW, row-major; every work-item guards its index because launchers round the global
// size up to a multiple of the work-group size; structural parameters arrive as -D defines.

#ifndef CONVLENS_COMMON_H
#define CONVLENS_COMMON_H

// Index of element (n, c, h, w) in an N×C×H×W tensor.
#define NCHW_INDEX(n, c, h, w, C, H, W) ((((n) * (C) + (c)) * (H) + (h)) * (W) + (w))

// The sum of every work-item's `value` in a one-dimensional work-group whose size is a power of two, returned to
// all of them; `scratch` holds one float per work-item. Every work-item of the group must call it.
// max(x, 0) and clamp that keep NaN, as PyTorch's relu and clamp do: fmax/fmin (and OpenCL's clamp) return the
// other operand for a NaN, which would turn a NaN activation into a confident number.
inline float positive_part(float x) { return x < 0.0f ? 0.0f : x; }
inline float clamp_nan(float x, float low, float high) { return x < low ? low : (x > high ? high : x); }

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
