#include "common.h"

// Element-wise ops: broadcast binary arithmetic, per-channel affine (inference BatchNormalization), softmax.

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3
#ifndef OP
#define OP OP_ADD
#endif

// x OP z.
inline float binary_op(float x, float z) {
#if OP == OP_MUL
    return x * z;
#elif OP == OP_DIV
    return x / z;
#elif OP == OP_SUB
    return x - z;
#else
    return x + z;
#endif
}

// Both operands shaped like the output (a residual add): global size (output count), no index arithmetic.
__kernel void binary_forward(__global const float* a, __global const float* b, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = binary_op(a[i], b[i]);
}

// Broadcasting over rank ≤ 4, padded on the left to 4 axes: the output has dims D0..D3; an operand's strides
// are 0 on the axes it is broadcast along.
//
// Where an operand's row starts (strides S0..S2 over the output's leading axes, 0 where it is broadcast).
inline size_t row_offset(int row, int D1, int D2, int S0, int S1, int S2) {
    return (size_t)(row / (D2 * D1)) * S0 + (size_t)((row / D2) % D1) * S1 + (size_t)(row % D2) * S2;
}

// Forward: global size (⌈D3/RUN⌉, D0·D1·D2), a run of up to RUN elements along the last axis per work-item, the
// row's offsets worked out once (per-element index arithmetic held the kernel to about 2 GB/s). A_STEP and B_STEP
// are the operands' last-axis strides, 0 (broadcast) or 1, as defines so that the run vectorizes.
#ifndef RUN
#define RUN 256
#endif
#ifndef A_STEP
#define A_STEP 1
#endif
#ifndef B_STEP
#define B_STEP 1
#endif
__kernel void binary_forward_rows(__global const float* a, __global const float* b, __global float* y, int D0, int D1,
                                  int D2, int D3, int A0, int A1, int A2, int B0, int B1, int B2) {
    const int start = get_global_id(0) * RUN, row = get_global_id(1);
    if (start >= D3 || row >= D0 * D1 * D2) return;
    a += row_offset(row, D1, D2, A0, A1, A2);
    b += row_offset(row, D1, D2, B0, B1, B2);
    y += (size_t)row * D3;
    const int end = min(start + RUN, D3);
    for (int i = start; i < end; ++i) y[i] = binary_op(a[i * A_STEP], b[i * B_STEP]);
}

// Which operand binary_backward differentiates: SIDE 0 is a, 1 is b.
#ifndef SIDE
#define SIDE 0
#endif

// Global size (operand count): the gradient of operand SIDE, with dims X0..X3 (each 1 or the output's), gathered
// over every output element it contributed to. The operands (strides A0..A3, B0..B3) are read where the op's
// derivative needs them: Mul the other one, Div both.
__kernel void binary_backward(__global const float* dy, __global const float* a, __global const float* b,
                              __global float* dx, int D0, int D1, int D2, int D3, int X0, int X1, int X2, int X3,
                              int A0, int A1, int A2, int A3, int B0, int B1, int B2, int B3) {
    const int j = get_global_id(0);
    if (j >= X0 * X1 * X2 * X3) return;
    const int j3 = j % X3, j2 = (j / X3) % X2, j1 = (j / (X3 * X2)) % X1, j0 = j / (X3 * X2 * X1);
    // On a broadcast axis every output index contributes; otherwise only the operand's own.
    const int from0 = X0 == D0 ? j0 : 0, to0 = X0 == D0 ? j0 + 1 : D0;
    const int from1 = X1 == D1 ? j1 : 0, to1 = X1 == D1 ? j1 + 1 : D1;
    const int from2 = X2 == D2 ? j2 : 0, to2 = X2 == D2 ? j2 + 1 : D2;
    const int from3 = X3 == D3 ? j3 : 0, to3 = X3 == D3 ? j3 + 1 : D3;
    float acc = 0.0f;
    for (int i0 = from0; i0 < to0; ++i0)
        for (int i1 = from1; i1 < to1; ++i1)
            for (int i2 = from2; i2 < to2; ++i2)
                for (int i3 = from3; i3 < to3; ++i3) {
                    const float g = dy[((i0 * D1 + i1) * D2 + i2) * D3 + i3];
#if OP == OP_MUL || OP == OP_DIV
                    const float z = b[i0 * B0 + i1 * B1 + i2 * B2 + i3 * B3];
#endif
#if OP == OP_MUL && SIDE == 0
                    acc = fma(g, z, acc);
#elif OP == OP_MUL
                    acc = fma(g, a[i0 * A0 + i1 * A1 + i2 * A2 + i3 * A3], acc);
#elif OP == OP_DIV && SIDE == 0
                    acc += g / z;
#elif OP == OP_DIV
                    acc -= g * a[i0 * A0 + i1 * A1 + i2 * A2 + i3 * A3] / (z * z);
#elif OP == OP_SUB && SIDE == 1
                    acc -= g;
#else
                    acc += g;
#endif
                }
    dx[j] = acc;
}

// The gradient of an operand shaped like the output, which takes no sum (a residual or bias add's activation
// side, a layer scale's input): laid out as binary_forward_rows, one run of the last axis per work-item, reading
// the operands at their broadcast positions where the derivative needs them.
__kernel void binary_backward_rows(__global const float* dy, __global const float* a, __global const float* b,
                                   __global float* dx, int D0, int D1, int D2, int D3, int A0, int A1, int A2, int B0,
                                   int B1, int B2) {
    const int start = get_global_id(0) * RUN, row = get_global_id(1);
    if (start >= D3 || row >= D0 * D1 * D2) return;
    a += row_offset(row, D1, D2, A0, A1, A2);
    b += row_offset(row, D1, D2, B0, B1, B2);
    dy += (size_t)row * D3;
    dx += (size_t)row * D3;
    const int end = min(start + RUN, D3);
    for (int i = start; i < end; ++i) {
        const float g = dy[i];
#if OP == OP_MUL && SIDE == 0
        dx[i] = g * b[i * B_STEP];
#elif OP == OP_MUL
        dx[i] = g * a[i * A_STEP];
#elif OP == OP_DIV && SIDE == 0
        dx[i] = g / b[i * B_STEP];
#elif OP == OP_DIV
        const float z = b[i * B_STEP];
        dx[i] = -(g * a[i * A_STEP] / (z * z));
#elif OP == OP_SUB && SIDE == 1
        dx[i] = -g;
#else
        dx[i] = g;
#endif
    }
}

#ifndef HAS_SHIFT
#define HAS_SHIFT 1
#endif

// Global size (COUNT): y = x·scale[c] + shift[c], channel c = (i / INNER) % C. Backward is the same kernel with
// the gradient as x and HAS_SHIFT=0.
__kernel void channel_affine_forward(__global const float* x, __global const float* scale,
                                     __global const float* shift, __global float* y, int COUNT, int C, int INNER) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    const int c = (i / INNER) % C;
#if HAS_SHIFT
    y[i] = fma(x[i], scale[c], shift[c]);
#else
    y[i] = x[i] * scale[c];
#endif
}

// Global size (OUTER · INNER): one group of COLUMNS values INNER apart each (INNER = 1: a contiguous row, the last
// axis), shifted by its maximum for stability.
__kernel void softmax_forward(__global const float* x, __global float* y, int ROWS, int COLUMNS, int INNER) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    const size_t base = (size_t)(row / INNER) * COLUMNS * INNER + row % INNER;
    __global const float* in = x + base;
    __global float* out = y + base;
    float largest = -INFINITY;
    for (int j = 0; j < COLUMNS; ++j) largest = fmax(largest, in[j * INNER]);
    float total = 0.0f;
    for (int j = 0; j < COLUMNS; ++j) {
        out[j * INNER] = exp(in[j * INNER] - largest);
        total += out[j * INNER];
    }
    for (int j = 0; j < COLUMNS; ++j) out[j * INNER] /= total;
}

// Global size (OUTER · INNER): dx = y·(dy − Σ dy·y) over each group.
__kernel void softmax_backward(__global const float* y, __global const float* dy, __global float* dx, int ROWS,
                               int COLUMNS, int INNER) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    const size_t base = (size_t)(row / INNER) * COLUMNS * INNER + row % INNER;
    float dot = 0.0f;
    for (int j = 0; j < COLUMNS; ++j) dot = fma(dy[base + j * INNER], y[base + j * INNER], dot);
    for (int j = 0; j < COLUMNS; ++j) dx[base + j * INNER] = y[base + j * INNER] * (dy[base + j * INNER] - dot);
}

// softmax_forward over contiguous rows (the last axis, INNER 1), 8 columns at a time so that PoCL runs each
// row's maximum, exponentials and sum as vector operations: ViT's attention rows (12 × 197 of 197) took 2.1 ms as
// one scalar column at a time.
__kernel void softmax_rows_forward(__global const float* x, __global float* y, int ROWS, int COLUMNS) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    __global const float* in = x + (size_t)row * COLUMNS;
    __global float* out = y + (size_t)row * COLUMNS;
    const int whole = COLUMNS / 8 * 8;
    float8 largest8 = (float8)(-INFINITY);
    for (int j = 0; j < whole; j += 8) largest8 = fmax(largest8, vload8(0, in + j));
    float largest = fmax(fmax(fmax(largest8.s0, largest8.s1), fmax(largest8.s2, largest8.s3)),
                         fmax(fmax(largest8.s4, largest8.s5), fmax(largest8.s6, largest8.s7)));
    for (int j = whole; j < COLUMNS; ++j) largest = fmax(largest, in[j]);
    float8 total8 = 0.0f;
    for (int j = 0; j < whole; j += 8) {
        const float8 e = exp(vload8(0, in + j) - largest);
        vstore8(e, 0, out + j);
        total8 += e;
    }
    float total = lane_sum8(total8);
    for (int j = whole; j < COLUMNS; ++j) {
        out[j] = exp(in[j] - largest);
        total += out[j];
    }
    for (int j = 0; j < whole; j += 8) vstore8(vload8(0, out + j) / total, 0, out + j);
    for (int j = whole; j < COLUMNS; ++j) out[j] /= total;
}

// softmax_backward over contiguous rows, 8 columns at a time.
__kernel void softmax_rows_backward(__global const float* y, __global const float* dy, __global float* dx, int ROWS,
                                    int COLUMNS) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    const size_t base = (size_t)row * COLUMNS;
    y += base;
    dy += base;
    dx += base;
    const int whole = COLUMNS / 8 * 8;
    float8 dot8 = 0.0f;
    for (int j = 0; j < whole; j += 8) dot8 = fma(vload8(0, dy + j), vload8(0, y + j), dot8);
    float dot = lane_sum8(dot8);
    for (int j = whole; j < COLUMNS; ++j) dot = fma(dy[j], y[j], dot);
    for (int j = 0; j < whole; j += 8) vstore8(vload8(0, y + j) * (vload8(0, dy + j) - dot), 0, dx + j);
    for (int j = whole; j < COLUMNS; ++j) dx[j] = y[j] * (dy[j] - dot);
}
