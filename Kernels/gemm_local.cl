#include "common.h"
#include "epilogue.h"

// The GPU-shaped matrix product (local_tile.h): matmul_tiled's operation and arguments,
//   C[m, n] = epilogue(Σ_k A(m, k)·B[k, n]  (+ bias[m], or bias[n] with HAS_BIAS 2)  (+ C[m, n] when ACCUMULATE)),
// A(m, k) = A[m·lda + k], or A[k·lda + m] with A_TRANS; B and C row-major; product z of a batch reads and writes
// each matrix z times its batch stride further on. B's rows (and A's with A_TRANS) are read VWN (VWM) floats at a
// time.

#ifndef A_TRANS
#define A_TRANS 0
#endif
#ifndef ACCUMULATE
#define ACCUMULATE 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

#define A_K_FAST (!A_TRANS)
#define A_VECTOR A_TRANS
#define B_K_FAST 0
#define B_VECTOR 1

struct TileOperands {
    __global const float* A;
    __global const float* B;
    int lda;
    int ldb;
};

inline float load_a(const struct TileOperands op, int m, int k) {
#if A_TRANS
    return op.A[(size_t)k * op.lda + m];
#else
    return op.A[(size_t)m * op.lda + k];
#endif
}
inline float load_b(const struct TileOperands op, int k, int n) { return op.B[(size_t)k * op.ldb + n]; }

#include "local_tile.h"

inline VTYPE_M load_a_vector(const struct TileOperands op, int m, int k) {
    return VLOAD_M(op.A + (size_t)k * op.lda + m);
}
inline VTYPE_N load_b_vector(const struct TileOperands op, int k, int n) {
    return VLOAD_N(op.B + (size_t)k * op.ldb + n);
}

// Global size (⌈M/MWG⌉·MDIMC, ⌈N/NWG⌉·NDIMC, batch), work-groups (MDIMC, NDIMC, 1).
__kernel void matmul_local(__global const float* A, int aOffset, int lda, __global const float* B, int bOffset,
                           int ldb, __global float* C, int cOffset, int ldc, __global const float* bias,
                           int biasOffset, int M, int N, int K, int aBatch, int bBatch, int cBatch,
                           __global const float* R, float epilogueA, float epilogueB) {
    __local float aTile[KWG * A_LOCAL_ROW];
    __local float bTile[KWG * B_LOCAL_ROW];
    const int z = get_global_id(2);
    const struct TileOperands op = {A + aOffset + (size_t)z * aBatch, B + bOffset + (size_t)z * bBatch, lda, ldb};
    const int m0 = get_group_id(0) * MWG, n0 = get_group_id(1) * NWG;
    float acc[MWI][NWI];
    tile_product(op, aTile, bTile, acc, m0, n0, 0, K, M, N);

    const int tm = get_local_id(0), tn = get_local_id(1);
    C += cOffset + (size_t)z * cBatch;
    R += cOffset + (size_t)z * cBatch;  // unused (null) without EPILOGUE_RESIDUAL
    _Pragma("unroll") for (int i = 0; i < MWI; ++i) {
        const int m = TILE_ROW(m0, tm, i);
        if (m >= M) continue;
        _Pragma("unroll") for (int j = 0; j < NWI; ++j) {
            const int n = TILE_COLUMN(n0, tn, j);
            if (n >= N) continue;
            float value = acc[i][j];
#if HAS_BIAS == 1
            value += bias[biasOffset + m];
#elif HAS_BIAS == 2
            value += bias[biasOffset + n];
#endif
            const size_t at = (size_t)m * ldc + n;
#if ACCUMULATE
            value += C[at];
#endif
            C[at] = epilogue_scalar(value, R + at, epilogueA, epilogueB);
        }
    }
}
