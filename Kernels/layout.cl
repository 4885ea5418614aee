#include "common.h"

// Ops that move data without arithmetic: channel concatenation, spatial padding, permutation of axes, and 2-D
// transposition of matrices inside buffers.

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

// The floats one work-item of the row kernels (gather_rows, slice_backward) moves along a row.
#define RUN 256

// The six-axis position of this work-item in a (D5, D4, D0·D1·D2·D3) global range, false past the dims.
inline bool grid_position(int D0, int D1, int D2, int D3, int D4, int D5, int* i) {
    i[5] = get_global_id(0);
    i[4] = get_global_id(1);
    int rest = get_global_id(2);
    if (i[5] >= D5 || i[4] >= D4 || rest >= D0 * D1 * D2 * D3) return false;
    i[3] = rest % D3; rest /= D3;
    i[2] = rest % D2; rest /= D2;
    i[1] = rest % D1;
    i[0] = rest / D1;
    return true;
}

// Global size (D5, D4, D0·D1·D2·D3): y in row-major order over output dims D0…D5 (leading ones 1) reads x at
// BASE + Σ position·S, where S0…S5 are the input's steps along each output axis (negative for a slice that runs
// backwards): the permute op (BASE 0, a matrix transpose takes transpose2d below) and the slice op.
__kernel void gather_strided(__global const float* x, __global float* y, int BASE, int D0, int D1, int D2, int D3,
                             int D4, int D5, int S0, int S1, int S2, int S3, int S4, int S5) {
    int i[6];
    if (!grid_position(D0, D1, D2, D3, D4, D5, i)) return;
    const long source = BASE + (long)i[0] * S0 + (long)i[1] * S1 + (long)i[2] * S2 + (long)i[3] * S3
        + (long)i[4] * S4 + (long)i[5] * S5;
    y[(size_t)get_global_id(2) * D4 * D5 + (size_t)i[4] * D5 + i[5]] = x[source];
}

// Global size (⌈D5/RUN⌉, D0·D1·D2·D3·D4): gather_strided where the input runs contiguously along the last output
// axis (S5 = 1), RUN floats a work-item, its row's start worked out once: ViT's heads split out of the tokens
// ([197, 12, 64] → [12, 197, 64]) and its q, k and v sliced out of one projection.
__kernel void gather_rows(__global const float* x, __global float* y, int BASE, int D0, int D1, int D2, int D3,
                          int D4, int D5, int S0, int S1, int S2, int S3, int S4) {
    const int first = get_global_id(0) * RUN;
    int rest = get_global_id(1);
    if (first >= D5 || rest >= D0 * D1 * D2 * D3 * D4) return;
    __global float* out = y + (size_t)rest * D5;
    long source = BASE + (long)(rest % D4) * S4; rest /= D4;
    source += (long)(rest % D3) * S3; rest /= D3;
    source += (long)(rest % D2) * S2; rest /= D2;
    source += (long)(rest % D1) * S1 + (long)(rest / D1) * S0;
    __global const float* in = x + source;
    const int last = min(first + RUN, D5);
    for (int i5 = first; i5 < last; ++i5) out[i5] = in[i5];
}

// Global size (⌈D5/RUN⌉, D0·D1·D2·D3·D4) over the input's dims: dx at each position is dy's element where the
// slice (per axis START, STEP, COUNT) took it, else 0, so every element of dx is written once. A work-item fills a
// run of RUN elements along the last axis, its row's place in the slice worked out once (per element, the six
// axes' divisions held it to 15 ns an element on ViT's split of q, k and v).
__kernel void slice_backward(__global const float* dy, __global float* dx, int D0, int D1, int D2, int D3, int D4,
                             int D5, int START0, int START1, int START2, int START3, int START4, int START5,
                             int STEP0, int STEP1, int STEP2, int STEP3, int STEP4, int STEP5, int COUNT0, int COUNT1,
                             int COUNT2, int COUNT3, int COUNT4, int COUNT5) {
    const int first = get_global_id(0) * RUN;
    int rest = get_global_id(1);
    if (first >= D5 || rest >= D0 * D1 * D2 * D3 * D4) return;
    const int row = rest;
    int i[5];
    i[4] = rest % D4; rest /= D4;
    i[3] = rest % D3; rest /= D3;
    i[2] = rest % D2; rest /= D2;
    i[1] = rest % D1;
    i[0] = rest / D1;
    const int start[5] = {START0, START1, START2, START3, START4};
    const int step[5] = {STEP0, STEP1, STEP2, STEP3, STEP4};
    const int count[5] = {COUNT0, COUNT1, COUNT2, COUNT3, COUNT4};
    size_t source = 0;
    bool taken = true;
    for (int axis = 0; axis < 5; ++axis) {
        const int offset = i[axis] - start[axis];
        const int index = offset / step[axis];
        taken = taken && offset % step[axis] == 0 && index >= 0 && index < count[axis];
        source = source * count[axis] + (taken ? index : 0);
    }
    __global float* out = dx + (size_t)row * D5;
    const int last = min(first + RUN, D5);
    if (!taken) {
        for (int i5 = first; i5 < last; ++i5) out[i5] = 0.0f;
        return;
    }
    __global const float* in = dy + source * COUNT5;
    for (int i5 = first; i5 < last; ++i5) {
        const int offset = i5 - START5, index = offset / STEP5;
        out[i5] = offset % STEP5 == 0 && index >= 0 && index < COUNT5 ? in[index] : 0.0f;
    }
}

// Global size (⌈COLS/16⌉, ⌈ROWS/16⌉, B0·B1·B2·B3): dst[c, r] = src[r, c] for a ROWS × COLS matrix inside each
// buffer (offsets and row strides in floats), once per batch position (b0…b3), whose matrices start
// Σ b·SB and Σ b·DB floats further on: the permute and slice ops whose input runs contiguously along an output axis
// other than the last (NCHW ↔ NHWC, a batch of matrices transposed), a matrix's permute (Gemm's transA), and the
// convolutions' weight gradient, which transposes dy before its product and the summed gradient after it.
// Each work-item moves one 16 × 16 block through private memory, so that it reads 16 runs of 16 floats along src's
// rows and writes 16 along dst's: VGG-16 conv1_2's dy (64 × 50176) moved at 6.4–7.8 GB/s, against 4.4–5.2 with
// one float per work-item, whose writes each touched a new cache line.
__kernel void transpose2d(__global const float* src, int srcOffset, int srcStride, __global float* dst,
                          int dstOffset, int dstStride, int ROWS, int COLS, int B1, int B2, int B3, int SB0, int SB1,
                          int SB2, int SB3, int DB0, int DB1, int DB2, int DB3) {
    const int c0 = get_global_id(0) * 16, r0 = get_global_id(1) * 16;
    if (c0 >= COLS || r0 >= ROWS) return;
    int z = get_global_id(2);
    const int b3 = z % B3; z /= B3;
    const int b2 = z % B2; z /= B2;
    const int b1 = z % B1, b0 = z / B1;
    src += srcOffset + (long)b0 * SB0 + (long)b1 * SB1 + (long)b2 * SB2 + (long)b3 * SB3 + (size_t)r0 * srcStride + c0;
    dst += dstOffset + (long)b0 * DB0 + (long)b1 * DB1 + (long)b2 * DB2 + (long)b3 * DB3 + (size_t)c0 * dstStride + r0;
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
