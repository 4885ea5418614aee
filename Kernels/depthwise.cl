#include "common.h"
#include "window.h"

// Depthwise convolution (one input channel per group, MULT = COUT / C output channels per input channel), the
// MobileNet layer: so little arithmetic per value that the work is moving data. Each work-item produces one row
// (of the output, or of the input gradient), with the weights of its channel in registers and each tap's valid
// column range computed once per row, so the inner loops are branch-free runs along a row.
// x: N×C×H×W, w: COUT×1×KH×KW, y: N×COUT×OH×OW.

#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

// Columns [first, last) of an output row whose tap at offset `shift` (= kw·DW − PL) reads inside 0..W-1.
inline int2 valid_columns(int shift, int W, int OW) {
    const int first = clamp((-shift + SW - 1) / SW, 0, OW);
    return (int2)(first, clamp((W - shift + SW - 1) / SW, first, OW));
}

// Global size (OH, N·COUT): output row oh of plane (n, co), built tap by tap: each tap is one pass along the row
// over the columns it reads inside the input, which the compiler vectorizes.
__kernel void conv2d_depthwise_forward(__global const float* x, __global const float* w, __global const float* bias,
                                       __global float* y, int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= N * COUT) return;
    const int n = plane / COUT, co = plane % COUT, c = co / (COUT / C);
    __global const float* input = x + ((size_t)n * C + c) * H * W;
    __global float* out = y + (size_t)plane * OH * OW + (size_t)oh * OW;
#if HAS_BIAS
    const float start = bias[co];
#else
    const float start = 0.0f;
#endif
    for (int ow = 0; ow < OW; ++ow) out[ow] = start;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        __global const float* row = input + (size_t)ih * W;
        for (int kw = 0; kw < KW; ++kw) {
            const int shift = kw * DW - PL;
            const int2 range = valid_columns(shift, W, OW);
            const float tap = w[(co * KH + kh) * KW + kw];
            for (int ow = range.x; ow < range.y; ++ow) out[ow] = fma(row[ow * SW + shift], tap, out[ow]);
        }
    }
}

// Global size (H, N·C): input-gradient row ih of plane (n, c), gathered from the MULT output channels of c over
// the taps whose window reads the row (no atomics: deterministic).
__kernel void conv2d_depthwise_backward_input(__global const float* dy, __global const float* w, __global float* dx,
                                              int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int ih = get_global_id(0), plane = get_global_id(1);
    if (ih >= H || plane >= N * C) return;
    const int n = plane / C, c = plane % C, mult = COUT / C;
    __global float* out = dx + (size_t)plane * H * W + (size_t)ih * W;
    for (int iw = 0; iw < W; ++iw) out[iw] = 0.0f;
    for (int m = 0; m < mult; ++m) {
        const int co = c * mult + m;
        __global const float* gradient = dy + ((size_t)n * COUT + co) * OH * OW;
        for (int kh = 0; kh < KH; ++kh) {
            const int ohScaled = ih + PT - kh * DH;
            if (ohScaled < 0 || ohScaled % SH != 0 || ohScaled / SH >= OH) continue;
            __global const float* row = gradient + (size_t)(ohScaled / SH) * OW;
            for (int kw = 0; kw < KW; ++kw) {
                const float tap = w[(co * KH + kh) * KW + kw];
                const int shift = kw * DW - PL;
                // Input column iw = ow·SW + shift for the output columns this tap reads inside the row.
                const int2 range = valid_columns(shift, W, OW);
                for (int ow = range.x; ow < range.y; ++ow) {
                    out[ow * SW + shift] = fma(row[ow], tap, out[ow * SW + shift]);
                }
            }
        }
    }
}

// Σ_ow grad[ow]·row[ow·SW + shift] over [first, last): a dot product, in independent partial sums (a single running
// sum would wait on every FMA's latency).
inline float row_dot(__global const float* grad, __global const float* row, int shift, int2 range) {
    int ow = range.x;
#if SW == 1
    float8 even = 0.0f, odd = 0.0f;
    for (; ow + 16 <= range.y; ow += 16) {
        even = fma(vload8(0, grad + ow), vload8(0, row + ow + shift), even);
        odd = fma(vload8(0, grad + ow + 8), vload8(0, row + ow + 8 + shift), odd);
    }
    const float8 both = even + odd;
    float total = ((both.s0 + both.s1) + (both.s2 + both.s3)) + ((both.s4 + both.s5) + (both.s6 + both.s7));
#else
    float total = 0.0f;
#endif
    float a = 0.0f, b = 0.0f;
    for (; ow + 2 <= range.y; ow += 2) {
        a = fma(grad[ow], row[ow * SW + shift], a);
        b = fma(grad[ow + 1], row[(ow + 1) * SW + shift], b);
    }
    if (ow < range.y) a = fma(grad[ow], row[ow * SW + shift], a);
    return total + (a + b);
}

// Global size (KH·KW, COUT): dw[co, 0, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow]·x[n, c, ih, iw], each row's
// products summed first and the rows' sums then (two levels, as every ConvLens reduction).
__kernel void conv2d_depthwise_backward_weight(__global const float* dy, __global const float* x, __global float* dw,
                                               int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int tap = get_global_id(0), co = get_global_id(1);
    if (tap >= KH * KW || co >= COUT) return;
    const int kh = tap / KW, kw = tap % KW, c = co / (COUT / C);
    const int shift = kw * DW - PL;
    const int2 range = valid_columns(shift, W, OW);
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) {
        __global const float* input = x + ((size_t)n * C + c) * H * W;
        __global const float* gradient = dy + ((size_t)n * COUT + co) * OH * OW;
        for (int oh = 0; oh < OH; ++oh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            acc += row_dot(gradient + (size_t)oh * OW, input + (size_t)ih * W, shift, range);
        }
    }
    dw[co * KH * KW + tap] = acc;
}
