#include "common.h"
#include "window.h"
#include "register_tile.h"
#include "epilogue.h"

// Implicit-GEMM convolution: the product y = W · col(x) of im2col.cl and gemm.cl, with each work-item reading its
// operand straight from the input instead of from a column matrix written first. Per image and group,
//   y[co, oh, ow] = Σ_{ci, kh, kw} w[co, ci, kh, kw] · x[ci, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW]   (+ bias[co])
// then epilogue.h's residual and activation (the forward pass of a fused convolution),
// with x zero outside the input. conv2d_pad_input first copies x with its zero border (a pass over the input,
// against im2col's KH·KW passes), so the product's loads need no checks. A work-item owns TM output channels × TN
// consecutive columns of one output row (register_tile.h); for each tap it loads NV vectors from one input row
// (every SW-th column, which the copy stores side by side) and does TM·NV vector FMAs, the inner loop of
// matmul_tiled. Tiles do not cross output rows, so the host uses this kernel where whole tiles cover a row with
// little left over (a 28-wide row takes a 32-column tile; a 14-wide one would waste more than half of it).
//
// Also the input gradient of a stride-1 convolution: the same sum over dy with the flipped, transposed weights
// (conv2d_flipped_weight) and padding K − 1 − p.

#if SW > 2
#error "conv2d_implicit_gemm reads input rows with stride 1 or 2"
#endif

// Channels summed into one `part`: as many whole windows as make about KT terms (2 for a 3×3 window).
#define PART_CHANNELS ((KT + KH * KW - 1) / (KH * KW))

// Where padded column c sits in a row of xp. Stride 2 stores the even columns first, then the odd ones (WP is
// even), so a tap's every-other-column run is one contiguous run: no lane shuffles, half the loads.
#if SW == 1
#define COLUMN(c) (c)
#else
#define COLUMN(c) (((c) & 1) * (WP / 2) + ((c) >> 1))
#endif

// Row r of one padded plane: out[COLUMN(c)] = x row r − PT at column c − PL, 0 outside x (x points at the plane).
inline void pad_row(__global const float* x, __global float* out, int r, int H, int W, int WP) {
    const int ih = r - PT;
    if (ih < 0 || ih >= H) {
        for (int c = 0; c < WP; ++c) out[c] = 0.0f;
        return;
    }
    __global const float* row = x + (size_t)ih * W;
#if SW == 1
    for (int c = 0; c < PL; ++c) out[c] = 0.0f;
    int iw = 0;
    for (; iw + 8 <= W; iw += 8) vstore8(vload8(0, row + iw), 0, out + PL + iw);
    for (; iw < W; ++iw) out[PL + iw] = row[iw];
    for (int c = PL + W; c < WP; ++c) out[c] = 0.0f;
#else
    for (int c = 0; c < PL; ++c) out[COLUMN(c)] = 0.0f;
    // From an even column on, 16 input values split into 8 even and 8 odd columns.
    int iw = PL % 2;
    if (iw == 1 && W > 0) out[COLUMN(PL)] = row[0];
    for (; iw + 16 <= W; iw += 16) {
        const float16 values = vload16(0, row + iw);
        vstore8(values.even, 0, out + (PL + iw) / 2);
        vstore8(values.odd, 0, out + WP / 2 + (PL + iw) / 2);
    }
    for (; iw < W; ++iw) out[COLUMN(PL + iw)] = row[iw];
    for (int c = PL + W; c < WP; ++c) out[COLUMN(c)] = 0.0f;
#endif
}

// Global size (⌈HP/rows⌉, planes): xp[plane, r, COLUMN(c)] = x[plane, r − PT, c − PL], 0 outside x, for HP × WP
// planes with HP ≥ PT + H and WP ≥ PL + W, `rows` rows per work-item (a work-item's fixed cost under PoCL
// outweighs copying one short row). The implicit product reads xp, so its loads need no bounds or padding checks.
__kernel void conv2d_pad_input(__global const float* x, __global float* xp, int planes, int H, int W, int HP,
                               int WP, int rows) {
    const int block = get_global_id(0), plane = get_global_id(1);
    if (block * rows >= HP || plane >= planes) return;
    for (int r = block * rows; r < min(HP, (block + 1) * rows); ++r) {
        pad_row(x + (size_t)plane * H * W, xp + ((size_t)plane * HP + r) * WP, r, H, W, WP);
    }
}

// Global size (⌈COG/TM⌉, OH·⌈OW/TN⌉, N·GROUPS), for the padded input xp (N·C planes of HP × WP from
// conv2d_pad_input, followed by at least TN·SW + (KW − 1)·DW floats: the lanes past OW of a row's last tile read
// on into the next row, or past the last one), weights w (CO × C/GROUPS × KH × KW from wOffset), bias (CO) and y
// (N × CO × OH × OW). Consecutive work-items walk down the output channels of one tile of columns, so the input
// rows they share stay in cache.
__kernel void conv2d_implicit_gemm(__global const float* xp, __global const float* w, int wOffset,
                                   __global const float* bias, __global float* y, int C, int HP, int WP, int CO, int OH,
                                   int OW, __global const float* residual, float epilogueA, float epilogueB) {
    const int CIG = C / GROUPS, COG = CO / GROUPS, K = CIG * KH * KW;
    const int tilesPerRow = (OW + TN - 1) / TN;
    const int m0 = get_global_id(0) * TM, oh = get_global_id(1) / tilesPerRow;
    const int ow0 = get_global_id(1) % tilesPerRow * TN, z = get_global_id(2);
    if (m0 >= COG || oh >= OH) return;
    const int image = z / GROUPS, group = z % GROUPS;
    w += wOffset;
    // The window's top-left input value for the tile's first output, in channel 0 of the group.
    xp += (((size_t)image * C + group * CIG) * HP + oh * SH) * WP + COLUMN(ow0 * SW);
    // Rows past COG repeat the last row (their results are never stored), so weight loads stay in bounds.
    __global const float* aRow[TM];
    _Pragma("unroll") for (int r = 0; r < TM; ++r) aRow[r] = w + (size_t)(group * COG + min(m0 + r, COG - 1)) * K;

    VT acc[TM][NV], part[TM][NV];
    _Pragma("unroll") for (int r = 0; r < TM; ++r) _Pragma("unroll") for (int v = 0; v < NV; ++v) acc[r][v] = 0.0f;
    for (int c0 = 0; c0 < CIG; c0 += PART_CHANNELS) {
        _Pragma("unroll") for (int r = 0; r < TM; ++r) _Pragma("unroll") for (int v = 0; v < NV; ++v) part[r][v] = 0.0f;
        for (int ci = c0; ci < min(c0 + PART_CHANNELS, CIG); ++ci) {
            for (int kh = 0; kh < KH; ++kh) {
                __global const float* row = xp + ((size_t)ci * HP + kh * DH) * WP;
                const int k0 = (ci * KH + kh) * KW;
                // Tap k0 + kw reads this row from column kw·DW on (COLUMN splits at even offsets). Not unrolled: unrolled, LLVM hoists every tap's
                // loads and broadcasts ahead of the FMAs and spills the sums (measured 2.4× slower under PoCL).
                _Pragma("unroll 1") for (int kw = 0; kw < KW; ++kw) {
                    VT b[NV];
                    _Pragma("unroll") for (int v = 0; v < NV; ++v) b[v] = VLOAD(row + COLUMN(kw * DW) + v * VW);
                    _Pragma("unroll") for (int r = 0; r < TM; ++r) {
                        const VT a = (VT)(aRow[r][k0 + kw]);
                        _Pragma("unroll") for (int v = 0; v < NV; ++v) part[r][v] = fma(a, b[v], part[r][v]);
                    }
                }
            }
        }
        _Pragma("unroll") for (int r = 0; r < TM; ++r) _Pragma("unroll") for (int v = 0; v < NV; ++v) acc[r][v] += part[r][v];
    }

    const int lanes = min(TN, OW - ow0);
    _Pragma("unroll") for (int r = 0; r < TM; ++r) {
        const int m = m0 + r;
        if (m >= COG) break;
        const size_t row = (((size_t)image * CO + group * COG + m) * OH + oh) * OW + ow0;
        __global float* yRow = y + row;
        __global const float* rRow = residual + row;  // unused (null) without EPILOGUE_RESIDUAL
        _Pragma("unroll") for (int v = 0; v < NV; ++v) {
            VT value = acc[r][v];
#if HAS_BIAS
            value += (VT)(bias[group * COG + m]);
#endif
            if ((v + 1) * VW <= lanes) {
                VSTORE(epilogue_vector(value, rRow + v * VW, epilogueA, epilogueB), yRow + v * VW);
            } else {
                float values[VW];
                VSTORE(value, values);
                for (int i = 0; i < VW && v * VW + i < lanes; ++i) {
                    yRow[v * VW + i] = epilogue_scalar(values[i], rRow + v * VW + i, epilogueA, epilogueB);
                }
            }
        }
    }
}
