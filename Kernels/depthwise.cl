#include "common.h"
#include "window.h"
#include "epilogue.h"

// Depthwise convolution (one input channel per group, MULT = COUT / C output channels per input channel), the
// MobileNet layer: so little arithmetic per value that the work is moving data. Each work-item produces one row
// (of the output, or of the input gradient), with the weights of its channel in registers and each tap's valid
// column range computed once per row, so the inner loops are branch-free runs along a row.
// x: N×C×H×W, w: COUT×1×KH×KW, y: N×COUT×OH×OW. The forward kernels end with epilogue.h's residual and
// activation (a fused convolution's).

#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

// Columns [first, last) of an output row whose tap at offset `shift` (= kw·DW − PL) reads inside 0..W-1.
inline int2 valid_columns(int shift, int W, int OW) {
    const int first = clamp((-shift + SW - 1) / SW, 0, OW);
    return (int2)(first, clamp((W - shift + SW - 1) / SW, first, OW));
}

// Global size (OH, N·COUT): output row oh of plane (n, co). Stride 1: the columns whose every tap reads inside
// the input run 8 at a time, all taps summed in a float8 before one store; the rest (edges, other strides) take
// one column at a time with bounds checks. Both sum each output in the same order (bias, then kh, kw).
__kernel void conv2d_depthwise_forward(__global const float* x, __global const float* w, __global const float* bias,
                                       __global float* y, int N, int C, int H, int W, int COUT, int OH, int OW,
                                       __global const float* residual, float epilogueA, float epilogueB) {
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= N * COUT) return;
    const int n = plane / COUT, co = plane % COUT, c = co / (COUT / C);
    __global const float* input = x + ((size_t)n * C + c) * H * W;
    const size_t rowStart = (size_t)plane * OH * OW + (size_t)oh * OW;
    __global float* out = y + rowStart;
    __global const float* skip = residual + rowStart;  // unused (null) without EPILOGUE_RESIDUAL
#if HAS_BIAS
    const float start = bias[co];
#else
    const float start = 0.0f;
#endif
    float taps[KH * KW];
    for (int t = 0; t < KH * KW; ++t) taps[t] = w[co * KH * KW + t];
    int lo = 0, hi = 0;
#if SW == 1
    lo = clamp(PL, 0, OW);
    hi = clamp(W - ((KW - 1) * DW - PL), lo, OW);
    // The last run ends at hi, overlapping the one before: those columns get the same sums twice.
    for (int run = lo; hi - lo >= 8 && run < hi; run += 8) {
        const int ow = min(run, hi - 8);
        float8 acc = start;
        _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            __global const float* row = input + (size_t)ih * W + ow - PL;
            _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                acc = fma(vload8(0, row + kw * DW), (float8)taps[kh * KW + kw], acc);
            }
        }
        vstore8(epilogue_float8(acc, skip + ow, epilogueA, epilogueB), 0, out + ow);
    }
    if (hi - lo < 8) hi = lo;
#endif
    for (int ow = 0; ow < OW; ++ow) {
        if (ow == lo) ow = hi;
        if (ow >= OW) break;
        float acc = start;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            __global const float* row = input + (size_t)ih * W;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ow * SW - PL + kw * DW;
                if (iw >= 0 && iw < W) acc = fma(row[iw], taps[kh * KW + kw], acc);
            }
        }
        out[ow] = epilogue_scalar(acc, skip + ow, epilogueA, epilogueB);
    }
}

// Global size (H, N·C): input-gradient row ih of plane (n, c), gathered from the MULT output channels of c over
// the taps whose window reads the row (no atomics: deterministic). One pass along the row per output channel,
// that channel's taps in registers. Stride 1: the columns every tap reaches from inside dy run 8 at a time in a
// float8; the rest one at a time. Both sum in the order m, kh, kw.
__kernel void conv2d_depthwise_backward_input(__global const float* dy, __global const float* w, __global float* dx,
                                              int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int ih = get_global_id(0), plane = get_global_id(1);
    if (ih >= H || plane >= N * C) return;
    const int n = plane / C, c = plane % C, mult = COUT / C;
    __global float* out = dx + (size_t)plane * H * W + (size_t)ih * W;
    // dy's row for each kh, or −1 where no output row reads input row ih through that tap.
    int rows[KH];
    for (int kh = 0; kh < KH; ++kh) {
        const int ohScaled = ih + PT - kh * DH;
        rows[kh] = (ohScaled < 0 || ohScaled % SH != 0 || ohScaled / SH >= OH) ? -1 : ohScaled / SH;
    }
    int lo = 0, hi = 0;
#if SW == 1
    // Column iw reads dy column iw − (kw·DW − PL): inside [0, OW) for every kw when iw is in [lo, hi).
    lo = clamp((KW - 1) * DW - PL, 0, W);
    hi = clamp(OW - PL, lo, W);
    // Overlapping runs would add a later channel's taps twice onto the sums so far: whole runs only then.
    if (mult > 1) hi = lo + (hi - lo) / 8 * 8;
    if (hi - lo < 8) hi = lo;
#endif
    for (int m = 0; m < mult; ++m) {
        const int co = c * mult + m;
        __global const float* gradient = dy + ((size_t)n * COUT + co) * OH * OW;
        float taps[KH * KW];
        for (int t = 0; t < KH * KW; ++t) taps[t] = w[co * KH * KW + t];
#if SW == 1
        // The last run ends at hi, overlapping the one before: those columns get the same sums twice.
        for (int run = lo; run < hi; run += 8) {
            const int iw = min(run, hi - 8);
            float8 acc = m == 0 ? (float8)0.0f : vload8(0, out + iw);
            _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
                if (rows[kh] < 0) continue;
                __global const float* row = gradient + (size_t)rows[kh] * OW + iw + PL;
                _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                    acc = fma(vload8(0, row - kw * DW), (float8)taps[kh * KW + kw], acc);
                }
            }
            vstore8(acc, 0, out + iw);
        }
#endif
        for (int iw = 0; iw < W; ++iw) {
            if (iw == lo) iw = hi;
            if (iw >= W) break;
            float acc = m == 0 ? 0.0f : out[iw];
            for (int kh = 0; kh < KH; ++kh) {
                if (rows[kh] < 0) continue;
                __global const float* row = gradient + (size_t)rows[kh] * OW;
                for (int kw = 0; kw < KW; ++kw) {
                    const int owScaled = iw + PL - kw * DW;
                    if (owScaled < 0 || owScaled % SW != 0 || owScaled / SW >= OW) continue;
                    acc = fma(row[owScaled / SW], taps[kh * KW + kw], acc);
                }
            }
            out[iw] = acc;
        }
    }
}

// Global size (COUT): dw[co, 0, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow]·x[n, c, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW]
// for every tap at once, so each row of dy and x is read once, not once per tap. Stride 1: the columns where every
// tap reads inside the row run 8 at a time, one float8 FMA chain per tap (independent, so they overlap); the other
// columns, and other strides, go one at a time. Two levels, as every ConvLens reduction: a row's products for a
// tap are summed first (in 8 lanes plus a scalar), then added to the tap's running totals.
__kernel void conv2d_depthwise_backward_weight(__global const float* dy, __global const float* x, __global float* dw,
                                               int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int co = get_global_id(0);
    if (co >= COUT) return;
    const int c = co / (COUT / C);
    // [interior.x, vectorEnd): whole runs of 8 columns inside every tap's valid range.
    int2 interior = (int2)(0, OW);
    _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
        const int2 range = valid_columns(kw * DW - PL, W, OW);
        interior = (int2)(max(interior.x, range.x), min(interior.y, range.y));
    }
#if SW == 1
    const int vectorEnd = interior.x + max(interior.y - interior.x, 0) / 8 * 8;
#else
    const int vectorEnd = interior.x;
#endif
    float8 lanes[KH * KW];
    float total[KH * KW];
    _Pragma("unroll") for (int t = 0; t < KH * KW; ++t) {
        lanes[t] = 0.0f;
        total[t] = 0.0f;
    }
    for (int n = 0; n < N; ++n) {
        __global const float* input = x + ((size_t)n * C + c) * H * W;
        for (int oh = 0; oh < OH; ++oh) {
            __global const float* grad = dy + (((size_t)n * COUT + co) * OH + oh) * OW;
            // x's row for each kh, or 0 where the tap reads padding.
            __global const float* rows[KH];
            _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
                const int ih = oh * SH - PT + kh * DH;
                rows[kh] = ih < 0 || ih >= H ? 0 : input + (size_t)ih * W;
            }
            float8 part[KH * KW];
            float rowSum[KH * KW];
            _Pragma("unroll") for (int t = 0; t < KH * KW; ++t) {
                part[t] = 0.0f;
                rowSum[t] = 0.0f;
            }
#if SW == 1
            for (int ow = interior.x; ow < vectorEnd; ow += 8) {
                const float8 g = vload8(0, grad + ow);
                _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
                    if (!rows[kh]) continue;
                    _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                        part[kh * KW + kw] = fma(g, vload8(0, rows[kh] + ow - PL + kw * DW), part[kh * KW + kw]);
                    }
                }
            }
#endif
            // The columns outside [interior.x, vectorEnd) that each tap reads inside the row, one at a time.
            _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
                if (!rows[kh]) continue;
                _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                    const int shift = kw * DW - PL, t = kh * KW + kw;
                    const int2 range = valid_columns(shift, W, OW);
                    for (int ow = range.x; ow < range.y; ++ow) {
                        if (ow == interior.x) ow = vectorEnd;
                        if (ow >= range.y) break;
                        rowSum[t] = fma(grad[ow], rows[kh][ow * SW + shift], rowSum[t]);
                    }
                }
            }
            _Pragma("unroll") for (int t = 0; t < KH * KW; ++t) {
                lanes[t] += part[t];
                total[t] += rowSum[t];
            }
        }
    }
    _Pragma("unroll") for (int t = 0; t < KH * KW; ++t) {
        dw[co * KH * KW + t] = total[t] + lane_sum8(lanes[t]);
    }
}

// Row-buffer variants for rows that fit in private memory (built only with ROW_W input and ROW_OW output columns as
// defines): each tap row is copied once into a zero-padded private row, so the tap loops run branch-free over whole
// rows, edges included, at any stride. They sum in the same order as the kernels above (bias, then m, kh, kw).

#ifdef ROW_W
// Padded input row of the forward: columns −PL … (ROW_OW − 1)·SW + (KW − 1)·DW − PL.
#define FORWARD_ROW ((ROW_OW - 1) * SW + (KW - 1) * DW + 1)

// Global size (OH, N·COUT), as conv2d_depthwise_forward.
__kernel void conv2d_depthwise_forward_rows(__global const float* x, __global const float* w,
                                            __global const float* bias, __global float* y, int N, int C, int H,
                                            int W, int COUT, int OH, int OW, __global const float* residual,
                                            float epilogueA, float epilogueB) {
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= N * COUT) return;
    const int n = plane / COUT, co = plane % COUT, c = co / (COUT / C);
    __global const float* input = x + ((size_t)n * C + c) * H * ROW_W;
#if HAS_BIAS
    const float start = bias[co];
#else
    const float start = 0.0f;
#endif
    float acc[ROW_OW], row[FORWARD_ROW];
    for (int ow = 0; ow < ROW_OW; ++ow) acc[ow] = start;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        __global const float* source = input + (size_t)ih * ROW_W;
        for (int j = 0; j < FORWARD_ROW; ++j) {
            const int iw = j - PL;
            row[j] = iw >= 0 && iw < ROW_W ? source[iw] : 0.0f;
        }
        _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
            const float tap = w[(co * KH + kh) * KW + kw];
            for (int ow = 0; ow < ROW_OW; ++ow) acc[ow] = fma(row[ow * SW + kw * DW], tap, acc[ow]);
        }
    }
    const size_t rowStart = (size_t)plane * OH * ROW_OW + (size_t)oh * ROW_OW;
    __global float* out = y + rowStart;
    __global const float* skip = residual + rowStart;  // unused (null) without EPILOGUE_RESIDUAL
    for (int ow = 0; ow < ROW_OW; ++ow) out[ow] = epilogue_scalar(acc[ow], skip + ow, epilogueA, epilogueB);
}

// dy's row of one output channel spread onto input columns: entry j holds dy[(j − (KW − 1)·DW) / SW] where that
// divides exactly and lies inside the row, else 0, so input column iw reads tap kw at j = iw + PL + (KW − 1 − kw)·DW.
#define SPREAD_ROW (ROW_W + PL + (KW - 1) * DW)

// Global size (H, N·C), as conv2d_depthwise_backward_input.
__kernel void conv2d_depthwise_backward_input_rows(__global const float* dy, __global const float* w,
                                                   __global float* dx, int N, int C, int H, int W, int COUT, int OH,
                                                   int OW) {
    const int ih = get_global_id(0), plane = get_global_id(1);
    if (ih >= H || plane >= N * C) return;
    const int n = plane / C, c = plane % C, mult = COUT / C;
    float acc[ROW_W], spread[SPREAD_ROW];
    for (int iw = 0; iw < ROW_W; ++iw) acc[iw] = 0.0f;
    for (int m = 0; m < mult; ++m) {
        const int co = c * mult + m;
        __global const float* gradient = dy + ((size_t)n * COUT + co) * OH * ROW_OW;
        for (int kh = 0; kh < KH; ++kh) {
            const int ohScaled = ih + PT - kh * DH;
            if (ohScaled < 0 || ohScaled % SH != 0 || ohScaled / SH >= OH) continue;
            __global const float* source = gradient + (size_t)(ohScaled / SH) * ROW_OW;
            for (int j = 0; j < SPREAD_ROW; ++j) {
                const int owScaled = j - (KW - 1) * DW;
                spread[j] = owScaled >= 0 && owScaled % SW == 0 && owScaled / SW < ROW_OW ? source[owScaled / SW] : 0.0f;
            }
            _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                const float tap = w[(co * KH + kh) * KW + kw];
                const int shift = PL + (KW - 1 - kw) * DW;
                for (int iw = 0; iw < ROW_W; ++iw) acc[iw] = fma(spread[iw + shift], tap, acc[iw]);
            }
        }
    }
    __global float* out = dx + (size_t)plane * H * ROW_W + (size_t)ih * ROW_W;
    for (int iw = 0; iw < ROW_W; ++iw) out[iw] = acc[iw];
}
#endif
