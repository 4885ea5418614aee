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

// Global size (OH, PLANES): one output row per work-item, so the row bounds are tested once per tap row and the
// column loop runs over the whole row (per-element work-items measured 55 ms on VGG-16's first pool at 16 × 128 px,
// 1.5 GB/s). argmax holds the in-plane index ih·W + iw of the first maximum in scan order.
__kernel void max_pool2d_forward(__global const float* x, __global float* y, __global int* argmax,
                                 int PLANES, int H, int W, int OH, int OW) {
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= PLANES) return;
    __global const float* input = x + (size_t)plane * H * W;
    const size_t out = ((size_t)plane * OH + oh) * OW;
    for (int ow = 0; ow < OW; ++ow) {
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
    for (int iw = 0; iw < W; ++iw) {
        const int self = ih * W + iw;
        float acc = 0.0f;
        for (int kh = 0; kh < KH; ++kh) {
            const int ohScaled = ih + PT - kh * DH;
            if (ohScaled < 0 || ohScaled % SH != 0 || ohScaled / SH >= OH) continue;
            const int oh = ohScaled / SH;
            for (int kw = 0; kw < KW; ++kw) {
                const int owScaled = iw + PL - kw * DW;
                if (owScaled < 0 || owScaled % SW != 0 || owScaled / SW >= OW) continue;
                const size_t out = outBase + oh * OW + owScaled / SW;
                if (argmax[out] == self) acc += dy[out];
            }
        }
        row[iw] = acc;
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
