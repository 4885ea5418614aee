#include "common.h"

// Ops that move data without arithmetic: channel concatenation, spatial padding, 2-D transposition (of tensors and
// of matrices inside buffers).

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

// Global size (⌈COLS/16⌉, ⌈ROWS/16⌉): dst[c, r] = src[r, c] for a ROWS × COLS matrix inside each buffer (offsets
// and row strides in floats): the transpose2d op (Gemm's transA), and the convolutions' weight gradient, which
// transposes dy before its product and the summed gradient after it.
// Each work-item moves one 16 × 16 block through private memory, so that it reads 16 runs of 16 floats along src's
// rows and writes 16 along dst's: VGG-16 conv1_2's dy (64 × 50176) moved at 6.4–7.8 GB/s, against 4.4–5.2 with
// one float per work-item, whose writes each touched a new cache line.
__kernel void transpose2d(__global const float* src, int srcOffset, int srcStride, __global float* dst,
                               int dstOffset, int dstStride, int ROWS, int COLS) {
    const int c0 = get_global_id(0) * 16, r0 = get_global_id(1) * 16;
    if (c0 >= COLS || r0 >= ROWS) return;
    src += srcOffset + (size_t)r0 * srcStride + c0;
    dst += dstOffset + (size_t)c0 * dstStride + r0;
    if (c0 + 16 <= COLS && r0 + 16 <= ROWS) {
        float block[16][16];
        for (int i = 0; i < 16; ++i) vstore16(vload16(0, src + (size_t)i * srcStride), 0, block[i]);
        for (int j = 0; j < 16; ++j) {
            float column[16];
            for (int i = 0; i < 16; ++i) column[i] = block[i][j];
            vstore16(vload16(0, column), 0, dst + (size_t)j * dstStride);
        }
        return;
    }
    for (int j = 0; j < min(16, COLS - c0); ++j) {
        for (int i = 0; i < min(16, ROWS - r0); ++i) dst[(size_t)j * dstStride + i] = src[(size_t)i * srcStride + j];
    }
}
