#include "common.h"
#include "window.h"

// Lays a convolution's input out as a matrix so that matmul_tiled (gemm.cl) does the arithmetic, and folds the
// gradient of that matrix back. For one image and one group of CI input channels (x points at its first plane):
//   col[kk, p] = x[ci, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW]   (0 in the padding)
// with kk = (ci·KH + kh)·KW + kw the weight's column and p = oh·OW + ow the output position.
// Forward:          y = W · col;        backward-input: dcol = Wᵀ · dy, then col2im;
// backward-weight:  dWᵀ = col · dyᵀ, with dy transposed by matrix_transpose (so both operands are read along
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

// Global size (⌈COLS/16⌉, ⌈ROWS/16⌉): dst[c, r] = src[r, c] for a ROWS × COLS matrix inside each buffer (offsets
// and row strides in floats). Backward-weight transposes dy before its product and the summed gradient after it.
// Each work-item moves one 16 × 16 block through private memory, so that it reads 16 runs of 16 floats along src's
// rows and writes 16 along dst's: VGG-16 conv1_2's dy (64 × 50176) moved at 6.4–7.8 GB/s, against 4.4–5.2 with
// one float per work-item, whose writes each touched a new cache line.
__kernel void matrix_transpose(__global const float* src, int srcOffset, int srcStride, __global float* dst,
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
