#include "common.h"
#include "register_tile.h"
#include "epilogue.h"

// Register-tiled matrix product, the engine of the convolutions (im2col.cl lays their operands out for it):
//   C[m, n] = epilogue(Σ_k A(m, k)·B[k, n]  (+ bias[m], or bias[n] with HAS_BIAS 2)  (+ C[m, n] when ACCUMULATE))
// with epilogue.h's activation and residual R (laid out as C) applied last.
// A(m, k) = A[m·lda + k], or A[k·lda + m] with A_TRANS; B and C are row-major with row strides ldb and ldc.
// Offsets are in elements, so one buffer can hold many images or groups. The third global dimension runs a batch
// of products: product z reads A, B and C further on by z times aBatch, bBatch and cBatch floats.
//
// Each work-item computes a TM × TN tile in registers (register_tile.h): per k it loads NV vectors of B and TM
// scalars of A, and does TM·NV vector FMAs, a BLIS-style micro-kernel on a CPU; consecutive work-items walk down
// M (M_MAJOR) so that the B panel they share stays in cache.

#ifndef M_MAJOR
#define M_MAJOR 0
#endif
#ifndef A_TRANS
#define A_TRANS 0
#endif
#ifndef ACCUMULATE
#define ACCUMULATE 0
#endif
// B laid out in panels of TN columns (pack_panels below): element (k, n) at (n / TN)·bPanel + k·TN + n % TN, each
// panel padded with zeros to TN columns, so that a work-item reads its B in one run instead of one cache line per
// row (a model's constant weights in long products, packed once).
#ifndef B_PACKED
#define B_PACKED 0
#endif

#if A_TRANS
#define A_AT(r, k) A[(size_t)(k) * lda + aRow[r]]
#else
#define A_AT(r, k) A[aRow[r] + (k)]
#endif

// VW floats of row `row` from column n; lanes at or past N read as 0 (only the last column tile).
inline VT load_tail(__global const float* row, int n, int N) {
    float lanes[VW];
    for (int i = 0; i < VW; ++i) lanes[i] = n + i < N ? row[n + i] : 0.0f;
    return VLOAD(lanes);
}

// One k step of the tile: NV vectors of B row k (loaded by LOAD), TM broadcasts of A, TM·NV FMAs.
#define TILE_STEP(k, LOAD)                                                                    \
    {                                                                                         \
        __global const float* bRow = B + (size_t)(k) * ldb;                                   \
        VT b[NV];                                                                             \
        _Pragma("unroll") for (int v = 0; v < NV; ++v) b[v] = LOAD;                           \
        _Pragma("unroll") for (int r = 0; r < TM; ++r) {                                      \
            const VT a = (VT)(A_AT(r, k));                                                    \
            _Pragma("unroll") for (int v = 0; v < NV; ++v) acc[r][v] = fma(a, b[v], acc[r][v]); \
        }                                                                                     \
    }

// Global size (⌈M/TM⌉, ⌈N/TN⌉, batch) with M_MAJOR, else (⌈N/TN⌉, ⌈M/TM⌉, batch).
// With B_PACKED, ldb is TN and bPanel the step from one panel to the next; every row of a panel is whole.
// Otherwise bCount is B's buffer length in floats: a tile that runs past column N still loads full vectors from every row
// whose vectors end inside the buffer (the lanes past N belong to the next row or to padding, and are never
// stored), so only the last row or two of a matrix take the lane-by-lane path.
__kernel void matmul_tiled(__global const float* A, int aOffset, int lda, __global const float* B, int bOffset,
                           int ldb, int bCount, int bPanel, __global float* C, int cOffset, int ldc, __global const float* bias,
                           int biasOffset, int M, int N, int K, int aBatch, int bBatch, int cBatch,
                           __global const float* R, float epilogueA, float epilogueB) {
#if M_MAJOR
    const int m0 = get_global_id(0) * TM, n0 = get_global_id(1) * TN;
#else
    const int n0 = get_global_id(0) * TN, m0 = get_global_id(1) * TM;
#endif
    if (m0 >= M || n0 >= N) return;
    const int z = get_global_id(2);
    aOffset += z * aBatch;
    bOffset += z * bBatch;
    cOffset += z * cBatch;
    A += aOffset;
#if B_PACKED
    B += bOffset + (size_t)(n0 / TN) * bPanel;
#else
    B += bOffset + n0;
#endif
    C += cOffset;
    R += cOffset;  // unused (null) without EPILOGUE_RESIDUAL
    // Rows past M repeat the last row (their results are never stored), so loads stay in bounds.
    size_t aRow[TM];
    _Pragma("unroll") for (int r = 0; r < TM; ++r) {
        const int m = min(m0 + r, M - 1);
        aRow[r] = A_TRANS ? (size_t)m : (size_t)m * lda;
    }
    const bool full = n0 + TN <= N;
    // Rows k < kVector have TN readable floats from column n0.
#if B_PACKED
    const int kVector = K;
#else
    const long spare = (long)bCount - ((long)bOffset + n0 + TN);
    const int kVector = spare < 0 ? 0 : (int)min((long)K, spare / ldb + 1);
#endif

    // One level of sums, TM·NV vectors: with a second level the tile needs twice as many registers, which spilled
    // AVX-512's 12 × 32 tile (matmul_tiled 16 % faster over ResNet-50's products with one level). Launches of at
    // most `termsPerLaunch` terms, added into C, bound the chain where the device class sets it.
    VT acc[TM][NV];
    _Pragma("unroll") for (int r = 0; r < TM; ++r) _Pragma("unroll") for (int v = 0; v < NV; ++v) acc[r][v] = 0.0f;
    for (int k = 0; k < kVector; ++k) TILE_STEP(k, VLOAD(bRow + v * VW))
    for (int k = kVector; k < K; ++k) TILE_STEP(k, load_tail(bRow, v * VW, N - n0))

    _Pragma("unroll") for (int r = 0; r < TM; ++r) {
        const int m = m0 + r;
        if (m >= M) break;
        __global float* cRow = C + (size_t)m * ldc + n0;
        __global const float* rRow = R + (size_t)m * ldc + n0;
        _Pragma("unroll") for (int v = 0; v < NV; ++v) {
            VT value = acc[r][v];
#if HAS_BIAS == 1
            value += (VT)(bias[biasOffset + m]);
#endif
            if (full) {
#if HAS_BIAS == 2
                value += VLOAD(bias + biasOffset + n0 + v * VW);
#endif
#if ACCUMULATE
                value += VLOAD(cRow + v * VW);
#endif
                VSTORE(epilogue_vector(value, rRow + v * VW, epilogueA, epilogueB), cRow + v * VW);
            } else {
                float lanes[VW];
                VSTORE(value, lanes);
                for (int i = 0; i < VW && n0 + v * VW + i < N; ++i) {
                    float lane = lanes[i];
#if HAS_BIAS == 2
                    lane += bias[biasOffset + n0 + v * VW + i];
#endif
#if ACCUMULATE
                    lane += cRow[v * VW + i];
#endif
                    cRow[v * VW + i] = epilogue_scalar(lane, rRow + v * VW + i, epilogueA, epilogueB);
                }
            }
        }
    }
}

// Global size (K, ⌈N/TN⌉): the K × N matrix whose element (k, n) is src[k·SK + n·SN] in matmul_tiled's B_PACKED
// layout (panel p holds columns p·TN ..< p·TN + TN, row after row, zeros past N). A weight W (OUT × IN) packs as
// B = Wᵀ for y = x·Wᵀ (SK 1, SN IN) and as B = W for dx = dy·W (SK IN, SN 1).
__kernel void pack_panels(__global const float* src, __global float* dst, int K, int N, int SK, int SN) {
    const int k = get_global_id(0), panel = get_global_id(1);
    if (k >= K || panel * TN >= N) return;
    __global float* out = dst + ((size_t)panel * K + k) * TN;
    for (int j = 0; j < TN; ++j) {
        const int n = panel * TN + j;
        out[j] = n < N ? src[(size_t)k * SK + (size_t)n * SN] : 0.0f;
    }
}
