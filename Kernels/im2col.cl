#include "common.h"
#include "window.h"

// Lays a convolution's input out as a matrix so that matmul_tiled (gemm.cl) does the arithmetic, and folds the
// gradient of that matrix back. For one image and one group of CI input channels (x points at its first plane):
//   col[kk, p] = x[ci, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW]   (0 in the padding)
// with kk = (ci·KH + kh)·KW + kw the weight's column and p = oh·OW + ow the output position.
// Forward:          y = W · col;        backward-input: dcol = Wᵀ · dy, then col2im;
// backward-weight:  dWᵀ = col · dyᵀ, with dy transposed by layout.cl's transpose2d (so both operands are read along
// their rows), and the sum transposed back.

// One output row oh of col row kk: a copy of one input row segment, with zeros in the padding.
inline void im2col_row(__global const float* x, __global float* out, int kk, int oh, int H, int W, int OW) {
    const int ci = kk / (KH * KW), kh = kk / KW % KH, kw = kk % KW;
    const int ih = oh * SH - PT + kh * DH;
    if (ih < 0 || ih >= H) {
        for (int ow = 0; ow < OW; ++ow) out[ow] = 0.0f;
        return;
    }
    __global const float* row = x + ((size_t)ci * H + ih) * W;
    // Outputs [first, last) read inside the row; the rest read padding.
    const int shift = kw * DW - PL;
    const int first = clamp((-shift + SW - 1) / SW, 0, OW), last = clamp((W - shift + SW - 1) / SW, first, OW);
    for (int ow = 0; ow < first; ++ow) out[ow] = 0.0f;
    int ow = first;
#if SW == 2
    // Stride 2: 8 outputs from one 16-float load's even lanes, while the load ends inside the row.
    for (; ow + 8 <= last && 2 * ow + shift + 16 <= W; ow += 8) {
        vstore8(vload16(0, row + 2 * ow + shift).even, 0, out + ow);
    }
#endif
    for (; ow < last; ++ow) out[ow] = row[ow * SW + shift];
    for (int ow = last; ow < OW; ++ow) out[ow] = 0.0f;
}

// Global size (⌈OH / rows⌉, CI·KH·KW): one work-item per `rows` output rows of col row kk (from colOffset, row
// stride ldcol), so each writes rows·OW consecutive values. The host makes short rows (small feature maps) into
// longer runs, as a work-item's fixed cost under PoCL outweighs copying a 14- or 28-float row.
__kernel void conv2d_im2col(__global const float* x, int xOffset, __global float* col, int colOffset, int ldcol,
                            int CIKK, int H, int W, int OH, int OW, int rows) {
    const int block = get_global_id(0), kk = get_global_id(1);
    if (block * rows >= OH || kk >= CIKK) return;
    for (int oh = block * rows; oh < min(OH, (block + 1) * rows); ++oh) {
        im2col_row(x + xOffset, col + colOffset + (size_t)kk * ldcol + oh * OW, kk, oh, H, W, OW);
    }
}

// Global size (H, CI): dx[ci, ih, iw] = Σ dcol[kk, p] over the taps (kh, kw) whose window reads (ih, iw). Each
// work-item owns one input row: it zeroes it, then adds every tap's run of dcol that lands in it (the reverse of
// im2col's copy: contiguous reads, strided writes). No atomics, and each sum runs in the fixed order kh, kw, so
// the result is deterministic.
__kernel void conv2d_col2im(__global const float* dcol, int ldcol, __global float* dx, int dxOffset, int H, int W,
                            int OH, int OW, int CI) {
    const int ih = get_global_id(0), ci = get_global_id(1);
    if (ih >= H || ci >= CI) return;
    __global float* row = dx + dxOffset + ((size_t)ci * H + ih) * W;
    for (int iw = 0; iw < W; ++iw) row[iw] = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int ohScaled = ih + PT - kh * DH;
        if (ohScaled < 0 || ohScaled % SH != 0 || ohScaled / SH >= OH) continue;
        const int oh = ohScaled / SH;
        for (int kw = 0; kw < KW; ++kw) {
            // Output column ow reads input column ow·SW + shift; [first, last) of them land inside the row.
            const int shift = kw * DW - PL;
            const int first = clamp((-shift + SW - 1) / SW, 0, OW), last = clamp((W - shift + SW - 1) / SW, first, OW);
            __global const float* run = dcol + (size_t)((ci * KH + kh) * KW + kw) * ldcol + oh * OW;
            for (int ow = first; ow < last; ++ow) row[ow * SW + shift] += run[ow];
        }
    }
}
