#include "common.h"

// Reductions over a run of adjacent axes: the tensor viewed as OUTER × R × INNER, one work-item per (outer, inner)
// position walking R (consecutive work-items read consecutive inner positions). REDUCE_OP: 0 sum, 1 mean, 2 max.

// Global size (INNER, OUTER).
__kernel void reduce_forward(__global const float* x, __global float* y, int OUTER, int R, int INNER) {
    const int i = get_global_id(0), o = get_global_id(1);
    if (i >= INNER || o >= OUTER) return;
    __global const float* run = x + (size_t)o * R * INNER + i;
#if REDUCE_OP == 2
    float result = run[0];
    for (int r = 1; r < R; ++r) {
        const float v = run[(size_t)r * INNER];
        result = isnan(v) || v > result ? v : result;  // NaN wins, as in PyTorch (fmax would drop it)
    }
#else
    float result = 0.0f;
    for (int r = 0; r < R; ++r) result += run[(size_t)r * INNER];
#if REDUCE_OP == 1
    result /= (float)R;
#endif
#endif
    y[(size_t)o * INNER + i] = result;
}

// Global size (INNER, OUTER): each input element of the run once, so dx needs no clearing.
__kernel void reduce_backward(__global const float* x, __global const float* y, __global const float* dy,
                              __global float* dx, int OUTER, int R, int INNER) {
    const int i = get_global_id(0), o = get_global_id(1);
    if (i >= INNER || o >= OUTER) return;
    const size_t position = (size_t)o * INNER + i, base = (size_t)o * R * INNER + i;
    const float g = dy[position];
#if REDUCE_OP == 2
    const float maximum = y[position];
    int ties = 0;
    for (int r = 0; r < R; ++r) ties += x[base + (size_t)r * INNER] == maximum;
    const float share = g / (float)max(ties, 1);
    for (int r = 0; r < R; ++r) dx[base + (size_t)r * INNER] = x[base + (size_t)r * INNER] == maximum ? share : 0.0f;
#else
#if REDUCE_OP == 1
    const float share = g / (float)R;
#else
    const float share = g;
#endif
    for (int r = 0; r < R; ++r) dx[base + (size_t)r * INNER] = share;
#endif
}
