#include "common.h"

// Ops that move data without arithmetic: channel concatenation, spatial padding, 2-D transposition.

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

// Global size (OW, OH, PLANES): each output element reads the input at (oh − TOP, ow − LEFT) or is `value`.
__kernel void pad2d_forward(__global const float* x, __global float* y, int PLANES, int H, int W, int OH, int OW,
                            int TOP, int LEFT, float value) {
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= PLANES) return;
    const int ih = oh - TOP, iw = ow - LEFT;
    const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
    y[((size_t)plane * OH + oh) * OW + ow] = inside ? x[((size_t)plane * H + ih) * W + iw] : value;
}

// Global size (W, H, PLANES): the gradient of the interior.
__kernel void pad2d_backward(__global const float* dy, __global float* dx, int PLANES, int H, int W, int OH, int OW,
                             int TOP, int LEFT) {
    const int iw = get_global_id(0), ih = get_global_id(1), plane = get_global_id(2);
    if (iw >= W || ih >= H || plane >= PLANES) return;
    dx[((size_t)plane * H + ih) * W + iw] = dy[((size_t)plane * OH + ih + TOP) * OW + iw + LEFT];
}

// Global size (ROWS, COLUMNS) of the input: y[c, r] = x[r, c].
__kernel void transpose2d(__global const float* x, __global float* y, int ROWS, int COLUMNS) {
    const int r = get_global_id(0), c = get_global_id(1);
    if (r >= ROWS || c >= COLUMNS) return;
    y[(size_t)c * ROWS + r] = x[(size_t)r * COLUMNS + c];
}
