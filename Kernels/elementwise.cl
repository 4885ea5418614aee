#include "common.h"

// Element-wise and structural ops: residual add and channel concatenation, forward and backward.

// Global size (COUNT).
__kernel void add_forward(__global const float* a, __global const float* b, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = a[i] + b[i];
}

// Global size (COUNT): both addends receive the output gradient unchanged.
__kernel void add_backward(__global const float* dy, __global float* da, __global float* db, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        da[i] = dy[i];
        db[i] = dy[i];
    }
}

// Global size (CI·HW, N): copies one N×CI×HW input into channels [OFFSET, OFFSET + CI) of an N×CTOTAL×HW output.
__kernel void concat_forward(__global const float* x, __global float* y, int N, int CI, int HW, int CTOTAL,
                             int OFFSET) {
    const int i = get_global_id(0), n = get_global_id(1);
    if (i >= CI * HW || n >= N) return;
    y[((size_t)n * CTOTAL + OFFSET) * HW + i] = x[(size_t)n * CI * HW + i];
}

// Global size (CI·HW, N): the inverse slice, for the input that owns channels [OFFSET, OFFSET + CI).
__kernel void concat_backward(__global const float* dy, __global float* dx, int N, int CI, int HW, int CTOTAL,
                              int OFFSET) {
    const int i = get_global_id(0), n = get_global_id(1);
    if (i >= CI * HW || n >= N) return;
    dx[(size_t)n * CI * HW + i] = dy[((size_t)n * CTOTAL + OFFSET) * HW + i];
}
