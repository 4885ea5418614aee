#include "common.h"
#include "window.h"

// Max and average pooling (PyTorch semantics, ONNX asymmetric padding) and their gradients.
// Tensors are viewed as PLANES = N·C planes of H×W (input) and OH×OW (output).

#ifndef PB
#define PB 0
#endif
#ifndef PR
#define PR 0
#endif
#ifndef COUNT_INCLUDE_PAD
#define COUNT_INCLUDE_PAD 1
#endif

// Windows that tile the input without overlap, padding or dilation (VGG's 2×2 stride-2 pools): every window of an
// output lies inside the input (floor mode), and each input element belongs to at most one window.
#define TILED_WINDOWS (KH == SH && KW == SW && DH == 1 && DW == 1 && PT == 0 && PL == 0 && PB == 0 && PR == 0)

// Overlapping windows of unit dilation at stride 1 or 2 (ResNet's 3×3 stride-2 pool): runs of 8 outputs whose
// every tap reads inside the row take their taps as vectors (vload8, or the even lanes of vload16 at stride 2).
#define VECTOR_RUNS (!TILED_WINDOWS && DW == 1 && (SW == 1 || SW == 2))

// A tap of 8 outputs: each lane takes `values` where larger or NaN, as the scalar loop does.
#define MAX_TAP8(values, index)                                     \
    {                                                               \
        const int8 take = isgreater(values, best) | isnan(values);  \
        best = select(best, values, take);                          \
        where = select(where, index, take);                         \
    }

// Global size (OH, PLANES): one output row per work-item, so the row bounds are tested once per tap row and the
// column loop runs over the whole row (per-element work-items measured 55 ms on VGG-16's first pool at 16 × 128 px,
// 1.5 GB/s). argmax holds the in-plane index ih·W + iw of the first maximum in scan order (a later NaN wins, as
// in PyTorch). With VECTOR_RUNS, ResNet-18's pool (64 × 112² → 56²) went from 3.2 ms a call.
__kernel void max_pool2d_forward(__global const float* x, __global float* y, __global int* argmax,
                                 int PLANES, int H, int W, int OH, int OW) {
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= PLANES) return;
    __global const float* input = x + (size_t)plane * H * W;
    const size_t out = ((size_t)plane * OH + oh) * OW;
    int lo = 0, runsEnd = 0;
#if VECTOR_RUNS
    // Columns [lo, hi): the window starts inside the row and its last tap (plus, at stride 2, the one float past
    // it that vload16 reads) ends inside it.
    lo = clamp((PL + SW - 1) / SW, 0, OW);
    const int last = W - 1 + PL - (KW - 1) - (SW - 1);
    const int hi = last < 0 ? lo : clamp(last / SW + 1, lo, OW);
    runsEnd = lo + (hi - lo) / 8 * 8;
    for (int ow = lo; ow < runsEnd; ow += 8) {
        float8 best = -INFINITY;
        int8 where = -1;
        bool first = true;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                const int column = ow * SW - PL + kw;
#if SW == 1
                const float8 values = vload8(0, input + ih * W + column);
                const int8 index = (int8)(ih * W + column) + (int8)(0, 1, 2, 3, 4, 5, 6, 7);
#else
                const float8 values = vload16(0, input + ih * W + column).even;
                const int8 index = (int8)(ih * W + column) + (int8)(0, 2, 4, 6, 8, 10, 12, 14);
#endif
                if (first) {
                    best = values;
                    where = index;
                    first = false;
                } else {
                    MAX_TAP8(values, index)
                }
            }
        }
        vstore8(best, 0, y + out + ow);
        vstore8(where, 0, argmax + out + ow);
    }
#endif
    for (int ow = 0; ow < OW; ++ow) {
        if (ow == lo && runsEnd > lo) ow = runsEnd;
        if (ow >= OW) break;
        float best = -INFINITY;
        int bestIndex = -1;
#if TILED_WINDOWS
        // Inside the input: no bounds to test, the taps unrolled.
        _Pragma("unroll") for (int kh = 0; kh < KH; ++kh) {
            const int rowStart = (oh * SH + kh) * W + ow * SW;
            _Pragma("unroll") for (int kw = 0; kw < KW; ++kw) {
                const float value = input[rowStart + kw];
                if (value > best || isnan(value) || bestIndex < 0) {  // NaN wins, as in PyTorch
                    best = value;
                    bestIndex = rowStart + kw;
                }
            }
        }
#else
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ow * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                const float value = input[ih * W + iw];
                if (value > best || isnan(value) || bestIndex < 0) {  // NaN wins, as in PyTorch
                    best = value;
                    bestIndex = ih * W + iw;
                }
            }
        }
#endif
        y[out + ow] = best;
        argmax[out + ow] = bestIndex;
    }
}

// Global size (H, PLANES): one input row per work-item; each element gathers the gradients of the windows whose
// argmax it is.
__kernel void max_pool2d_backward(__global const float* dy, __global const int* argmax, __global float* dx,
                                  int PLANES, int H, int W, int OH, int OW) {
    const int ih = get_global_id(0), plane = get_global_id(1);
    if (ih >= H || plane >= PLANES) return;
    const size_t outBase = (size_t)plane * OH * OW;
    __global float* row = dx + (size_t)plane * H * W + (size_t)ih * W;
#if TILED_WINDOWS
    // The one window that holds this row, if any: its gradient goes to its argmax.
    const int oh = ih / SH;
    for (int iw = 0; iw < W; ++iw) {
        const int ow = iw / SW;
        const size_t out = outBase + (size_t)oh * OW + ow;
        row[iw] = oh < OH && ow < OW && argmax[out] == ih * W + iw ? dy[out] : 0.0f;
    }
    return;
#endif
    // Overlapping windows: the row starts at zero and takes the gradient of every window over it whose argmax
    // lies in it, windows in the order the per-element sum took them (the last row of windows first, within a row
    // the last first), so an element several windows chose sums the same terms in the same order. Against a gather
    // of every tap per element (a division and a remainder each), ResNet's pool's gradient ran 3.6 ms a call.
    for (int iw = 0; iw < W; ++iw) row[iw] = 0.0f;
    const int first = max(0, (ih + PT - (KH - 1) * DH + SH - 1) / SH), final = min(OH - 1, (ih + PT) / SH);
    for (int oh = final; oh >= first; --oh) {
        const size_t outRow = outBase + (size_t)oh * OW;
        for (int ow = OW - 1; ow >= 0; --ow) {
            const int column = argmax[outRow + ow] - ih * W;
            if (column >= 0 && column < W) row[column] += dy[outRow + ow];
        }
    }
}

// PyTorch's average-pool divisor for output (oh, ow): the window size measured against the padded extent,
// or, without COUNT_INCLUDE_PAD, the number of real input elements in it.
inline int average_divisor(int oh, int ow, int H, int W) {
    const int rowStart = oh * SH - PT, columnStart = ow * SW - PL;
    const int rowEnd = min(rowStart + KH, H + PB), columnEnd = min(columnStart + KW, W + PR);
#if COUNT_INCLUDE_PAD
    return (rowEnd - rowStart) * (columnEnd - columnStart);
#else
    return (min(rowEnd, H) - max(rowStart, 0)) * (min(columnEnd, W) - max(columnStart, 0));
#endif
}

// Global size (OW, OH, PLANES).
__kernel void avg_pool2d_forward(__global const float* x, __global float* y, int PLANES, int H, int W, int OH,
                                 int OW) {
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= PLANES) return;
    __global const float* input = x + (size_t)plane * H * W;
    const int rowStart = oh * SH - PT, columnStart = ow * SW - PL;
    const int rowEnd = min(rowStart + KH, H), columnEnd = min(columnStart + KW, W);
    float sum = 0.0f;
    for (int ih = max(rowStart, 0); ih < rowEnd; ++ih)
        for (int iw = max(columnStart, 0); iw < columnEnd; ++iw) sum += input[ih * W + iw];
    y[((size_t)plane * OH + oh) * OW + ow] = sum / (float)average_divisor(oh, ow, H, W);
}

// Global size (W, H, PLANES): dx gathers dy / divisor from every window that covers it.
__kernel void avg_pool2d_backward(__global const float* dy, __global float* dx, int PLANES, int H, int W, int OH,
                                  int OW) {
    const int iw = get_global_id(0), ih = get_global_id(1), plane = get_global_id(2);
    if (iw >= W || ih >= H || plane >= PLANES) return;
    // Windows covering ih start at oh·SH − PT in (ih − KH, ih].
    const int ohFirst = max(0, (ih + PT - KH + SH) / SH), ohLast = min(OH - 1, (ih + PT) / SH);
    const int owFirst = max(0, (iw + PL - KW + SW) / SW), owLast = min(OW - 1, (iw + PL) / SW);
    __global const float* grad = dy + (size_t)plane * OH * OW;
    float acc = 0.0f;
    for (int oh = ohFirst; oh <= ohLast; ++oh)
        for (int ow = owFirst; ow <= owLast; ++ow) acc += grad[oh * OW + ow] / (float)average_divisor(oh, ow, H, W);
    dx[((size_t)plane * H + ih) * W + iw] = acc;
}

// Global size (PLANES): mean of each plane.
__kernel void global_avg_pool2d_forward(__global const float* x, __global float* y, int PLANES, int HW) {
    const int plane = get_global_id(0);
    if (plane >= PLANES) return;
    __global const float* input = x + (size_t)plane * HW;
    float sum = 0.0f;
    for (int i = 0; i < HW; ++i) sum += input[i];
    y[plane] = sum / (float)HW;
}

// Global size (HW, PLANES).
__kernel void global_avg_pool2d_backward(__global const float* dy, __global float* dx, int PLANES, int HW) {
    const int i = get_global_id(0), plane = get_global_id(1);
    if (i >= HW || plane >= PLANES) return;
    dx[(size_t)plane * HW + i] = dy[plane] / (float)HW;
}
