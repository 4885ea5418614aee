#include "common.h"
#include "window.h"
#include "epilogue.h"

// 2-D convolution (cross-correlation, PyTorch semantics) and its gradients.
// x: N×C×H×W, w: COUT×(C/GROUPS)×KH×KW, y: N×COUT×OH×OW.
// Every gradient is a gather (one work-item per result element, no atomics), so results are deterministic.

#ifndef GROUPS
#define GROUPS 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
// Output channels one forward work-item computes (input channels for backward-input): every input value
// loaded is reused BLOCK times from registers. Divides the channels per group (the host picks it).
#ifndef BLOCK
#define BLOCK 1
#endif
// Terms per inner run of the two-level sums in the backward-input kernel.
#define SUM_RUN 16

// Global size (OW, OH, N·COUT/BLOCK): BLOCK consecutive output channels of one position per work-item, stored
// through epilogue.h (a fused convolution's residual and activation).
__kernel void conv2d_forward(__global const float* x, __global const float* w, __global const float* bias,
                             __global float* y, int N, int C, int H, int W, int COUT, int OH, int OW,
                             __global const float* residual, float epilogueA, float epilogueB) {
    const int ow = get_global_id(0), oh = get_global_id(1), nblock = get_global_id(2);
    const int blocks = COUT / BLOCK;
    if (ow >= OW || oh >= OH || nblock >= N * blocks) return;
    const int n = nblock / blocks, co0 = (nblock % blocks) * BLOCK;
    const int cinPerGroup = C / GROUPS, coutPerGroup = COUT / GROUPS;
    const int cBase = (co0 / coutPerGroup) * cinPerGroup;
    const int ih0 = oh * SH - PT, iw0 = ow * SW - PL;
    // Two-level sums: each input channel's taps into `part`, the channels' parts into `acc`. Rounding then grows
    // with √C + √(KH·KW) rather than √(C·KH·KW): on VGG-16 this brings the error down to oneDNN's.
    float acc[BLOCK], part[BLOCK];
    for (int b = 0; b < BLOCK; ++b) acc[b] = 0.0f;
    for (int ci = 0; ci < cinPerGroup; ++ci) {
        __global const float* plane = x + (size_t)(n * C + cBase + ci) * H * W;
        __global const float* taps = w + (size_t)(co0 * cinPerGroup + ci) * KH * KW;
        for (int b = 0; b < BLOCK; ++b) part[b] = 0.0f;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = ih0 + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = iw0 + kw * DW;
                if (iw < 0 || iw >= W) continue;
                const float value = plane[ih * W + iw];
                for (int b = 0; b < BLOCK; ++b) {
                    part[b] = fma(value, taps[(size_t)b * cinPerGroup * KH * KW + kh * KW + kw], part[b]);
                }
            }
        }
        for (int b = 0; b < BLOCK; ++b) acc[b] += part[b];
    }
#if HAS_BIAS
    for (int b = 0; b < BLOCK; ++b) acc[b] += bias[co0 + b];
#endif
    for (int b = 0; b < BLOCK; ++b) {
        const size_t index = NCHW_INDEX((size_t)n, co0 + b, oh, ow, COUT, OH, OW);
        y[index] = epilogue_scalar(acc[b], residual + index, epilogueA, epilogueB);
    }
}

// Global size (W, H, N·C/BLOCK): dx[n,c,ih,iw] = Σ dy[n,co,oh,ow]·w[co,ci,kh,kw] over the taps that read (ih, iw),
// for BLOCK consecutive input channels of one group, each gradient value loaded once for all of them.
__kernel void conv2d_backward_input(__global const float* dy, __global const float* w, __global float* dx,
                                    int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int iw = get_global_id(0), ih = get_global_id(1), nblock = get_global_id(2);
    const int blocks = C / BLOCK;
    if (iw >= W || ih >= H || nblock >= N * blocks) return;
    const int n = nblock / blocks, c0 = (nblock % blocks) * BLOCK;
    const int cinPerGroup = C / GROUPS, coutPerGroup = COUT / GROUPS;
    const int group = c0 / cinPerGroup, ci0 = c0 % cinPerGroup;
    float acc[BLOCK];
    for (int b = 0; b < BLOCK; ++b) acc[b] = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int ohScaled = ih + PT - kh * DH;
        if (ohScaled < 0 || ohScaled % SH != 0) continue;
        const int oh = ohScaled / SH;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int owScaled = iw + PL - kw * DW;
            if (owScaled < 0 || owScaled % SW != 0) continue;
            const int ow = owScaled / SW;
            if (ow >= OW) continue;
            // Two-level sums, as in the forward: runs of SUM_RUN output channels into `part`, then into `acc`.
            for (int j0 = 0; j0 < coutPerGroup; j0 += SUM_RUN) {
                float part[BLOCK];
                for (int b = 0; b < BLOCK; ++b) part[b] = 0.0f;
                for (int j = j0; j < min(j0 + SUM_RUN, coutPerGroup); ++j) {
                    const int co = group * coutPerGroup + j;
                    const float gradient = dy[NCHW_INDEX(n, co, oh, ow, COUT, OH, OW)];
                    __global const float* taps = w + ((size_t)(co * cinPerGroup + ci0) * KH + kh) * KW + kw;
                    for (int b = 0; b < BLOCK; ++b) part[b] = fma(gradient, taps[(size_t)b * KH * KW], part[b]);
                }
                for (int b = 0; b < BLOCK; ++b) acc[b] += part[b];
            }
        }
    }
    for (int b = 0; b < BLOCK; ++b) dx[NCHW_INDEX(n, c0 + b, ih, iw, C, H, W)] = acc[b];
}

// Global size (KH·KW, C/GROUPS, COUT): dw[co,ci,kh,kw] = Σ_{n,oh,ow} dy[n,co,oh,ow]·x[n,c,ih,iw].
__kernel void conv2d_backward_weight(__global const float* dy, __global const float* x, __global float* dw,
                                     int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int tap = get_global_id(0), ci = get_global_id(1), co = get_global_id(2);
    const int cinPerGroup = C / GROUPS, coutPerGroup = COUT / GROUPS;
    if (tap >= KH * KW || ci >= cinPerGroup || co >= COUT) return;
    const int kh = tap / KW, kw = tap % KW;
    const int c = (co / coutPerGroup) * cinPerGroup + ci;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) {
        __global const float* plane = x + (size_t)(n * C + c) * H * W;
        __global const float* grad = dy + (size_t)(n * COUT + co) * OH * OW;
        for (int oh = 0; oh < OH; ++oh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int ow = 0; ow < OW; ++ow) {
                const int iw = ow * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                acc = fma(grad[oh * OW + ow], plane[ih * W + iw], acc);
            }
        }
    }
    dw[(co * cinPerGroup + ci) * KH * KW + tap] = acc;
}

// Global size (COUT): db[co] = Σ_{n,oh,ow} dy[n,co,oh,ow].
__kernel void conv2d_backward_bias(__global const float* dy, __global float* db, int N, int COUT, int OH, int OW) {
    const int co = get_global_id(0);
    if (co >= COUT) return;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) {
        __global const float* grad = dy + (size_t)(n * COUT + co) * OH * OW;
        for (int i = 0; i < OH * OW; ++i) acc += grad[i];
    }
    db[co] = acc;
}

// The weight flip below moves a TILE × TILE tile of tap blocks through local memory in one work-group of that
// shape, so that its reads and its writes each run along rows (one of the two would otherwise stride across the
// weights: measured 1.7–2× faster on conv5_1's 512 × 512 × 3 × 3). The host picks TILE so the tile fits 16 KB.
#ifndef TILE
#define TILE 16
#endif

// Global size (⌈CI/TILE⌉·TILE, ⌈CO/TILE⌉·TILE), for one group's weights (CO × CI × KH × KW from wOffset): the
// weights of the convolution that computes a stride-1 convolution's input gradient (from flippedOffset),
// flipped[ci, (co·KH + kh)·KW + kw] = w[co, ci, KH−1−kh, KW−1−kw] — a transpose of CO × CI blocks of KH·KW taps,
// each block reversed. Backward-input then runs like a forward pass over dy (im2col and one product).
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void conv2d_flipped_weight(__global const float* w, int wOffset, __global float* flipped, int flippedOffset, int CI,
                           int CO) {
    __local float tile[TILE][TILE][KH * KW];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int c0 = get_group_id(0) * TILE, r0 = get_group_id(1) * TILE;
    // Read: work-items along ci, so each row of w is read in one run of TILE·KH·KW floats.
    if (c0 + lx < CI && r0 + ly < CO) {
        __global const float* block = w + wOffset + ((size_t)(r0 + ly) * CI + c0 + lx) * KH * KW;
        for (int tap = 0; tap < KH * KW; ++tap) tile[ly][lx][tap] = block[KH * KW - 1 - tap];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    // Write: work-item (lx, ly) writes block (ci = c0 + ly, co = r0 + lx): along co, so each row is one run.
    if (c0 + ly < CI && r0 + lx < CO) {
        __global float* block = flipped + flippedOffset + ((size_t)(c0 + ly) * CO + r0 + lx) * KH * KW;
        for (int tap = 0; tap < KH * KW; ++tap) block[tap] = tile[lx][ly][tap];
    }
}
