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
