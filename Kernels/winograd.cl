#include "common.h"
#include "window.h"

// Winograd F(2×2, 3×3) for stride-1, undilated 3×3 convolutions (Lavin & Gray, 2015). Each 2×2 block of outputs
// ("tile") comes from a 4×4 patch of input d and a 3×3 filter g as
//   Y = Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
// so the 36 multiplications per tile and channel of a direct convolution become 16 (2.25× fewer). The sum over
// channels, for each of the 16 positions e = 4ξ + ν, is a matrix product, run by matmul_tiled (gemm.cl) as 16
// batched products:  M[e] (R × N) = U[e] (R × S) · V[e] (S × N)
// with S the convolution's input channels, R its output channels and N the tiles of a chunk of tile rows, taken
// across the batch's images in order. The three kernels here transform the weights into U, the input into V, and M
// into the output. Only additions, subtractions and halvings: the error stays at float32 rounding of the sums.
//
// The backward-input pass is the same computation on dy, with each filter flipped and the channel roles swapped
// (FLIP_TRANSPOSE), and padding 2 − p; the host passes the paddings PT, PL as defines (window.h).
//
// F(4×4, 3×3), the winograd4_ kernels at the end, is the same scheme with 4×4 tiles from 6×6 patches: 36 products
// per tile and channel instead of 144 (4×), 36 batched matmuls.

#ifndef FLIP_TRANSPOSE
#define FLIP_TRANSPOSE 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

// Global size (COUT·CIN): U[e·uPlane + f] = (G g Gᵀ)[e] for filter f = cout·CIN + cin of the weights (stored
// COUT × CIN × 3 × 3 from wOffset), rotated by 180° with FLIP_TRANSPOSE. Filters are read and written in storage
// order, so the forward pass reads U[e] as R × S = COUT × CIN and the backward-input pass as its transpose.
__kernel void winograd_weight_transform(__global const float* w, int wOffset, __global float* U, int filters,
                                        int uPlane) {
    const int f = get_global_id(0);
    if (f >= filters) return;
    __global const float* src = w + wOffset + (size_t)f * 9;
#if FLIP_TRANSPOSE
#define G_AT(i, j) src[8 - ((i) * 3 + (j))]
#else
#define G_AT(i, j) src[(i) * 3 + (j)]
#endif
    // t = G g (4 × 3), then U = t Gᵀ (4 × 4).
    float t[4][3];
    for (int j = 0; j < 3; ++j) {
        const float g0 = G_AT(0, j), g1 = G_AT(1, j), g2 = G_AT(2, j);
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
    }
#undef G_AT
    for (int i = 0; i < 4; ++i) {
        U[(size_t)(4 * i + 0) * uPlane + f] = t[i][0];
        U[(size_t)(4 * i + 1) * uPlane + f] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        U[(size_t)(4 * i + 2) * uPlane + f] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        U[(size_t)(4 * i + 3) * uPlane + f] = t[i][2];
    }
}

// Bᵀ d B for a 4×4 patch given as its rows' four values d0..d3, in TYPE (float, or float8 for 8 tiles side by
// side): u = d B per row, then v = Bᵀ u, stored by STORE(e, value) for e = 4i + j.
#define INPUT_TILE(TYPE, LOAD_ROW, STORE)                                                   \
    {                                                                                       \
        TYPE u[4][4];                                                                       \
        for (int i = 0; i < 4; ++i) {                                                       \
            TYPE d0, d1, d2, d3;                                                            \
            LOAD_ROW(i);                                                                    \
            u[i][0] = d0 - d2;                                                              \
            u[i][1] = d1 + d2;                                                              \
            u[i][2] = d2 - d1;                                                              \
            u[i][3] = d1 - d3;                                                              \
        }                                                                                   \
        for (int j = 0; j < 4; ++j) {                                                       \
            STORE(0 + j, u[0][j] - u[2][j]);                                                \
            STORE(4 + j, u[1][j] + u[2][j]);                                                \
            STORE(8 + j, u[2][j] - u[1][j]);                                                \
            STORE(12 + j, u[1][j] - u[3][j]);                                               \
        }                                                                                   \
    }

// Global size (S, rows): V[e, s, n] = (Bᵀ d B)[e] for every tile of tile row q = firstRow + qi (image q / TH, tile
// row ty = q % TH) of channel s, d the 4×4 patch whose top-left corner is input (2·ty − PT, 2·tx − PL), zeros
// outside the H × W plane; n = qi·TW + tx. Image i's channel s starts at x + i·xImageStride + s·H·W; V starts at
// vOffset, its planes e are vPlane apart and its rows ldv. A work-item takes the whole tile row: 8 tiles at a time
// where their 18 input columns lie inside the row (each patch row then comes from two float16 loads, split into
// even and odd columns), one at a time near the edges.
__kernel void winograd_input_transform(__global const float* x, int xImageStride, __global float* V, int vOffset,
                                       int vPlane, int ldv, int firstRow, int rows, int S, int H, int W, int TH,
                                       int TW) {
    const int s = get_global_id(0), qi = get_global_id(1);
    if (s >= S || qi >= rows) return;
    const int image = (firstRow + qi) / TH, ty = (firstRow + qi) % TH;
    __global const float* plane = x + (size_t)image * xImageStride + (size_t)s * H * W;
    __global float* out = V + vOffset + (size_t)s * ldv + (size_t)qi * TW;
    const size_t planeStride = vPlane;
    const int h0 = 2 * ty - PT;
#define SCALAR_AT(i, col) \
    (h0 + (i) >= 0 && h0 + (i) < H && (col) >= 0 && (col) < W ? plane[(size_t)(h0 + (i)) * W + (col)] : 0.0f)
#define SCALAR_ROW(i) \
    d0 = SCALAR_AT(i, w0); d1 = SCALAR_AT(i, w0 + 1); d2 = SCALAR_AT(i, w0 + 2); d3 = SCALAR_AT(i, w0 + 3);
#define SCALAR_STORE(e, value) out[(e) * planeStride + tx] = (value)
#define VECTOR_ROW(i)                                                                           \
    {                                                                                           \
        const bool inside = h0 + (i) >= 0 && h0 + (i) < H;                                      \
        __global const float* row = plane + (size_t)(h0 + (i)) * W + w0;                         \
        const float16 lo = inside ? vload16(0, row) : (float16)(0.0f);                          \
        const float16 hi = inside ? vload16(0, row + 2) : (float16)(0.0f);                      \
        d0 = lo.even; d1 = lo.odd; d2 = hi.even; d3 = hi.odd;                                   \
    }
#define VECTOR_STORE(e, value) vstore8((value), 0, out + (e) * planeStride + tx)
    int tx = 0;
    for (; tx < TW && 2 * tx - PL < 0; ++tx) {
        const int w0 = 2 * tx - PL;
        INPUT_TILE(float, SCALAR_ROW, SCALAR_STORE)
    }
    for (; tx + 8 <= TW && 2 * tx - PL + 17 < W; tx += 8) {
        const int w0 = 2 * tx - PL;
        INPUT_TILE(float8, VECTOR_ROW, VECTOR_STORE)
    }
    for (; tx < TW; ++tx) {
        const int w0 = 2 * tx - PL;
        INPUT_TILE(float, SCALAR_ROW, SCALAR_STORE)
    }
}

// Aᵀ m A for the 16 values m[e] (e = 4i + j) of one output in TYPE, plus b: the 2×2 block y[i][j].
#define OUTPUT_TILE(TYPE, m, b, y)                                                              \
    {                                                                                           \
        TYPE p[2][4];                                                                           \
        for (int j = 0; j < 4; ++j) {                                                           \
            p[0][j] = m[0 + j] + m[4 + j] + m[8 + j];                                           \
            p[1][j] = m[4 + j] - m[8 + j] - m[12 + j];                                          \
        }                                                                                       \
        for (int i = 0; i < 2; ++i) {                                                           \
            y[i][0] = p[i][0] + p[i][1] + p[i][2] + b;                                          \
            y[i][1] = p[i][1] - p[i][2] - p[i][3] + b;                                          \
        }                                                                                       \
    }

// Global size (R, rows): output r of each tile of tile row q = firstRow + qi (image q / TH, tile row ty = q % TH)
// is Aᵀ M[·, r, n] A (+ bias[r]), n = qi·TW + tx, M from mOffset with planes mPlane and rows ldm apart: the 2×2
// block at (2·ty, 2·tx) of the OH × OW plane at y + i·yImageStride + r·OH·OW, clipped to it. 8 tiles at a time
// (16 output columns, interleaved from the blocks' two columns) while they lie inside the plane's width, then one
// at a time.
__kernel void winograd_output_transform(__global const float* M, int mOffset, int mPlane, int ldm, __global float* y,
                                        int yImageStride, __global const float* bias, int firstRow, int rows, int R,
                                        int OH, int OW, int TH, int TW) {
    const int r = get_global_id(0), qi = get_global_id(1);
    if (r >= R || qi >= rows) return;
    const int image = (firstRow + qi) / TH, ty = (firstRow + qi) % TH;
    __global const float* in = M + mOffset + (size_t)r * ldm + (size_t)qi * TW;
    const size_t planeStride = mPlane;
#if HAS_BIAS
    const float b = bias[r];
#else
    const float b = 0.0f;
#endif
    __global float* out = y + (size_t)image * yImageStride + (size_t)r * OH * OW + (size_t)(2 * ty) * OW;
    const int outRows = min(2, OH - 2 * ty);
    int tx = 0;
    for (; tx + 8 <= TW && 2 * tx + 16 <= OW; tx += 8) {
        float8 m[16], block[2][2];
        for (int e = 0; e < 16; ++e) m[e] = vload8(0, in + e * planeStride + tx);
        OUTPUT_TILE(float8, m, b, block)
        for (int i = 0; i < outRows; ++i) {
            const float16 interleaved = shuffle2(block[i][0], block[i][1],
                                                 (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
            vstore16(interleaved, 0, out + (size_t)i * OW + 2 * tx);
        }
    }
    for (; tx < TW; ++tx) {
        float m[16], block[2][2];
        for (int e = 0; e < 16; ++e) m[e] = in[e * planeStride + tx];
        OUTPUT_TILE(float, m, b, block)
        for (int i = 0; i < outRows; ++i) {
            out[(size_t)i * OW + 2 * tx] = block[i][0];
            if (2 * tx + 1 < OW) out[(size_t)i * OW + 2 * tx + 1] = block[i][1];
        }
    }
}

// F(4×4, 3×3) with interpolation points 0, ±1, ±2, ∞:
//   G  = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]            (6 × 3)
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]    (6 × 6)
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]                                      (4 × 6)
// Bᵀ and Aᵀ grow values by up to 10 and 17 per dimension, so the transforms are written in the paired forms below:
// the terms that share a coefficient up to sign are added first, and the powers of two scale exactly, so each
// output takes few roundings. The work-items run one per tile and channel, tiles along dimension 0: neighbours
// read and write neighbouring floats of every plane of V and M.

// One dimension of G g for the column (g0, g1, g2) into t(0..5, K): the filter polynomial g0 + g1·x + g2·x²
// at 0, ±1, ±2 (scaled by 1/4, −1/6, 1/24) and its leading coefficient, the even part shared by ±x.
#define G4(g0, g1, g2, t, K)                                \
    {                                                       \
        const float even1 = (g0) + (g2);                    \
        const float even2 = (g0) + 4.0f * (g2);             \
        t(0, K) = 0.25f * (g0);                             \
        t(1, K) = -(even1 + (g1)) * (1.0f / 6.0f);          \
        t(2, K) = -(even1 - (g1)) * (1.0f / 6.0f);          \
        t(3, K) = (even2 + 2.0f * (g1)) * (1.0f / 24.0f);   \
        t(4, K) = (even2 - 2.0f * (g1)) * (1.0f / 24.0f);   \
        t(5, K) = (g2);                                     \
    }

// Global size (COUT·CIN): as winograd_weight_transform, the 36 planes of U = G g Gᵀ, e = 6i + j.
__kernel void winograd4_weight_transform(__global const float* w, int wOffset, __global float* U, int filters,
                                         int uPlane) {
    const int f = get_global_id(0);
    if (f >= filters) return;
    __global const float* src = w + wOffset + (size_t)f * 9;
#if FLIP_TRANSPOSE
#define G_AT(i, j) src[8 - ((i) * 3 + (j))]
#else
#define G_AT(i, j) src[(i) * 3 + (j)]
#endif
    // t = G g (6 × 3), then U = t Gᵀ (6 × 6).
    float t[6][3];
#define T_AT(i, j) t[i][j]
    for (int j = 0; j < 3; ++j) G4(G_AT(0, j), G_AT(1, j), G_AT(2, j), T_AT, j)
#undef G_AT
#undef T_AT
#define U_AT(j, i) U[(size_t)(6 * (i) + (j)) * uPlane + f]
    for (int i = 0; i < 6; ++i) G4(t[i][0], t[i][1], t[i][2], U_AT, i)
#undef U_AT
}

// One dimension of Bᵀ d for d0..d5 into v(0..5, K).
#define B4(d0, d1, d2, d3, d4, d5, v, K)                    \
    {                                                       \
        const float a = (d4) - 4.0f * (d2);                 \
        const float b = (d3) - 4.0f * (d1);                 \
        const float c = (d4) - (d2);                        \
        const float e = 2.0f * ((d3) - (d1));               \
        v(0, K) = 4.0f * (d0) - 5.0f * (d2) + (d4);         \
        v(1, K) = a + b;                                    \
        v(2, K) = a - b;                                    \
        v(3, K) = c + e;                                    \
        v(4, K) = c - e;                                    \
        v(5, K) = 4.0f * (d1) - 5.0f * (d3) + (d5);         \
    }

// Global size (rows·TW, S): V[e, s, n] = (Bᵀ d B)[e], e = 6i + j, for tile n = qi·TW + tx of tile row
// q = firstRow + qi (image q / TH, tile row ty = q % TH) and channel s, d the 6×6 patch whose top-left corner is
// input (4·ty − PT, 4·tx − PL), zeros outside the H × W plane. The other arguments as winograd_input_transform's.
__kernel void winograd4_input_transform(__global const float* x, int xImageStride, __global float* V, int vOffset,
                                        int vPlane, int ldv, int firstRow, int rows, int S, int H, int W, int TH,
                                        int TW) {
    const int n = get_global_id(0), s = get_global_id(1);
    if (n >= rows * TW || s >= S) return;
    const int q = firstRow + n / TW, tx = n % TW;
    const int image = q / TH, ty = q % TH;
    __global const float* plane = x + (size_t)image * xImageStride + (size_t)s * H * W;
    const int h0 = 4 * ty - PT, w0 = 4 * tx - PL;
    float d[6][6];
    for (int i = 0; i < 6; ++i) {
        const bool rowInside = h0 + i >= 0 && h0 + i < H;
        for (int j = 0; j < 6; ++j)
            d[i][j] = rowInside && w0 + j >= 0 && w0 + j < W ? plane[(size_t)(h0 + i) * W + w0 + j] : 0.0f;
    }
    // u = Bᵀ d down the columns, then V = u B along the rows.
    float u[6][6];
#define U_AT(i, j) u[i][j]
    for (int j = 0; j < 6; ++j) B4(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], U_AT, j)
#undef U_AT
    __global float* out = V + vOffset + (size_t)s * ldv + n;
#define V_AT(j, i) out[(size_t)(6 * (i) + (j)) * vPlane]
    for (int i = 0; i < 6; ++i) B4(u[i][0], u[i][1], u[i][2], u[i][3], u[i][4], u[i][5], V_AT, i)
#undef V_AT
}

// One dimension of Aᵀ m for m0..m5 into y(0..3, K).
#define A4(m0, m1, m2, m3, m4, m5, y, K)                    \
    {                                                       \
        const float sum12 = (m1) + (m2), diff12 = (m1) - (m2);\
        const float sum34 = (m3) + (m4), diff34 = (m3) - (m4);\
        y(0, K) = (m0) + sum12 + sum34;                     \
        y(1, K) = diff12 + 2.0f * diff34;                   \
        y(2, K) = sum12 + 4.0f * sum34;                     \
        y(3, K) = diff12 + 8.0f * diff34 + (m5);            \
    }

// Global size (rows·TW, R): output r of tile n = qi·TW + tx (tile row q = firstRow + qi: image q / TH, tile row
// ty = q % TH) is Aᵀ M[·, r, n] A (+ bias[r]), e = 6i + j: the 4×4 block at (4·ty, 4·tx) of the OH × OW plane,
// clipped to it. The other arguments as winograd_output_transform's.
__kernel void winograd4_output_transform(__global const float* M, int mOffset, int mPlane, int ldm, __global float* y,
                                         int yImageStride, __global const float* bias, int firstRow, int rows, int R,
                                         int OH, int OW, int TH, int TW) {
    const int n = get_global_id(0), r = get_global_id(1);
    if (n >= rows * TW || r >= R) return;
    const int q = firstRow + n / TW, tx = n % TW;
    const int image = q / TH, ty = q % TH;
    __global const float* in = M + mOffset + (size_t)r * ldm + n;
#if HAS_BIAS
    const float b = bias[r];
#else
    const float b = 0.0f;
#endif
    // p = Aᵀ m down the columns (4 × 6), then the block = p A along the rows (4 × 4).
    float m[6][6], p[4][6], block[4][4];
    for (int e = 0; e < 36; ++e) m[e / 6][e % 6] = in[(size_t)e * mPlane];
#define P_AT(i, j) p[i][j]
    for (int j = 0; j < 6; ++j) A4(m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j], P_AT, j)
#undef P_AT
#define BLOCK_AT(j, i) block[i][j]
    for (int i = 0; i < 4; ++i) A4(p[i][0], p[i][1], p[i][2], p[i][3], p[i][4], p[i][5], BLOCK_AT, i)
#undef BLOCK_AT
    __global float* out = y + (size_t)image * yImageStride + (size_t)r * OH * OW + (size_t)(4 * ty) * OW + 4 * tx;
    const int outRows = min(4, OH - 4 * ty), outColumns = min(4, OW - 4 * tx);
    for (int i = 0; i < outRows; ++i)
        for (int j = 0; j < outColumns; ++j) out[(size_t)i * OW + j] = block[i][j] + b;
}
