// The work-group tiled product behind gemm_local.cl and conv_local.cl, shaped for GPUs as CLBlast's xgemm is:
// a work-group of MDIMC × NDIMC work-items computes an MWG × NWG block of C = A·B. For each KWG terms, the
// work-items together copy A's MWG × KWG block and B's KWG × NWG block into local memory; then each multiplies its
// own register block of MWI × NWI values from there. Every value read from global memory is used NWG or MWG times
// from local memory, every value read from local memory NWI or MWI times from registers.
//
// Work-item (tm, tn) owns rows m0 + (i·MDIMC + tm)·VWM + v and columns n0 + (j·NDIMC + tn)·VWN + w: vectors of VWM
// rows and VWN columns, strided by the work-group so that neighbouring work-items read neighbouring vectors of
// local memory (no bank conflicts) and store neighbouring columns.
//
// Tuned as build defines (LocalTiling on the host; `convlens tune` searches them):
//   MWG, NWG, KWG   the work-group's block and the terms per local-memory step
//   MDIMC, NDIMC    the work-group's shape
//   VWM, VWN        vector widths of the register blocks' local-memory reads (and of gemm_local's global reads)
//   LOCAL_PAD       floats added to each local row, which moves rows copied along k onto different banks
// Set by the layout of the operands:
//   A_K_FAST, B_K_FAST  1 where A's (B's) neighbouring addresses run along k, so neighbouring work-items copy
//                       neighbouring terms and their global reads coalesce; 0 where they run along m (n).
//   A_VECTOR, B_VECTOR  1 where load_a_vector / load_b_vector read VWM rows / VWN columns at once (defined after
//                       this header, which declares them).
//
// A file including this defines `struct TileOperands` (the kernel's buffers and sizes) and the loaders
//   float load_a(struct TileOperands, int m, int k)  and  float load_b(struct TileOperands, int k, int n),
// called only for m < M, n < N and k < kEnd (the tile's padding reads as 0), before including it.

#ifndef CONVLENS_LOCAL_TILE_H
#define CONVLENS_LOCAL_TILE_H

#ifndef MWG
#define MWG 64
#endif
#ifndef NWG
#define NWG 64
#endif
#ifndef KWG
#define KWG 16
#endif
#ifndef MDIMC
#define MDIMC 16
#endif
#ifndef NDIMC
#define NDIMC 16
#endif
#ifndef VWM
#define VWM 4
#endif
#ifndef VWN
#define VWN 4
#endif
#ifndef LOCAL_PAD
#define LOCAL_PAD 0
#endif
#ifndef A_K_FAST
#define A_K_FAST 0
#endif
#ifndef B_K_FAST
#define B_K_FAST 0
#endif
#ifndef A_VECTOR
#define A_VECTOR 0
#endif
#ifndef B_VECTOR
#define B_VECTOR 0
#endif

#define MWI (MWG / MDIMC)
#define NWI (NWG / NDIMC)
#define TILE_THREADS (MDIMC * NDIMC)
#define A_LOCAL_ROW (MWG + LOCAL_PAD)
#define B_LOCAL_ROW (NWG + LOCAL_PAD)

#define TILE_CONCAT(a, b) TILE_CONCAT_(a, b)
#define TILE_CONCAT_(a, b) a##b
#if VWM == 1
#define VLOAD_M(p) (*(p))
#define VSTORE_M(v, p) (*(p) = (v))
#define VTYPE_M float
#else
#define VLOAD_M(p) TILE_CONCAT(vload, VWM)(0, p)
#define VSTORE_M(v, p) TILE_CONCAT(vstore, VWM)(v, 0, p)
#define VTYPE_M TILE_CONCAT(float, VWM)
#endif
#if VWN == 1
#define VLOAD_N(p) (*(p))
#define VSTORE_N(v, p) (*(p) = (v))
#define VTYPE_N float
#else
#define VLOAD_N(p) TILE_CONCAT(vload, VWN)(0, p)
#define VSTORE_N(v, p) TILE_CONCAT(vstore, VWN)(v, 0, p)
#define VTYPE_N TILE_CONCAT(float, VWN)
#endif

// Vector loaders, defined by the including file after this header (they take its vector types).
#if A_VECTOR
inline VTYPE_M load_a_vector(const struct TileOperands op, int m, int k);
#endif
#if B_VECTOR
inline VTYPE_N load_b_vector(const struct TileOperands op, int k, int n);
#endif

// The row and column of register i (j) of work-item (tm, tn) in a block starting at (m0, n0).
#define TILE_ROW(m0, tm, i) ((m0) + ((i) / VWM * MDIMC + (tm)) * VWM + (i) % VWM)
#define TILE_COLUMN(n0, tn, j) ((n0) + ((j) / VWN * NDIMC + (tn)) * VWN + (j) % VWN)

// Copies A(m0 ..< m0 + MWG, k0 ..< k0 + KWG) and B(k0 ..< k0 + KWG, n0 ..< n0 + NWG) into local memory, k-major
// (aTile[k·A_LOCAL_ROW + m]), zeros outside M, N and kEnd. Work-item `lid` of the group takes every
// TILE_THREADS-th element (or vector).
inline void fill_tiles(const struct TileOperands op, __local float* aTile, __local float* bTile, int m0, int n0,
                       int k0, int kEnd, int M, int N, int lid) {
#if A_VECTOR && !A_K_FAST
    for (int i = lid; i < MWG / VWM * KWG; i += TILE_THREADS) {
        const int m = i % (MWG / VWM) * VWM, k = i / (MWG / VWM);
        __local float* to = aTile + k * A_LOCAL_ROW + m;
        if (k0 + k < kEnd && m0 + m + VWM <= M) {
            VSTORE_M(load_a_vector(op, m0 + m, k0 + k), to);
        } else {
            for (int v = 0; v < VWM; ++v) to[v] = k0 + k < kEnd && m0 + m + v < M ? load_a(op, m0 + m + v, k0 + k) : 0.0f;
        }
    }
#else
    for (int i = lid; i < MWG * KWG; i += TILE_THREADS) {
#if A_K_FAST
        const int k = i % KWG, m = i / KWG;
#else
        const int m = i % MWG, k = i / MWG;
#endif
        aTile[k * A_LOCAL_ROW + m] = m0 + m < M && k0 + k < kEnd ? load_a(op, m0 + m, k0 + k) : 0.0f;
    }
#endif
#if B_VECTOR && !B_K_FAST
    for (int i = lid; i < NWG / VWN * KWG; i += TILE_THREADS) {
        const int n = i % (NWG / VWN) * VWN, k = i / (NWG / VWN);
        __local float* to = bTile + k * B_LOCAL_ROW + n;
        if (k0 + k < kEnd && n0 + n + VWN <= N) {
            VSTORE_N(load_b_vector(op, k0 + k, n0 + n), to);
        } else {
            for (int w = 0; w < VWN; ++w) to[w] = k0 + k < kEnd && n0 + n + w < N ? load_b(op, k0 + k, n0 + n + w) : 0.0f;
        }
    }
#else
    for (int i = lid; i < NWG * KWG; i += TILE_THREADS) {
#if B_K_FAST
        const int k = i % KWG, n = i / KWG;
#else
        const int n = i % NWG, k = i / NWG;
#endif
        bTile[k * B_LOCAL_ROW + n] = n0 + n < N && k0 + k < kEnd ? load_b(op, k0 + k, n0 + n) : 0.0f;
    }
#endif
}

// acc += this work-item's register block of the tiles' product over their KWG terms.
inline void multiply_tiles(__local const float* aTile, __local const float* bTile, float acc[MWI][NWI], int tm,
                           int tn) {
    for (int k = 0; k < KWG; ++k) {
        float a[MWI], b[NWI];
        _Pragma("unroll") for (int i = 0; i < MWI / VWM; ++i) {
            VSTORE_M(VLOAD_M(aTile + k * A_LOCAL_ROW + (i * MDIMC + tm) * VWM), a + i * VWM);
        }
        _Pragma("unroll") for (int j = 0; j < NWI / VWN; ++j) {
            VSTORE_N(VLOAD_N(bTile + k * B_LOCAL_ROW + (j * NDIMC + tn) * VWN), b + j * VWN);
        }
        _Pragma("unroll") for (int i = 0; i < MWI; ++i) {
            _Pragma("unroll") for (int j = 0; j < NWI; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }
}

// acc = the block's product over terms kBegin ..< kEnd. Every work-item of the group must call it (barriers),
// also those whose block lies past M or N.
inline void tile_product(const struct TileOperands op, __local float* aTile, __local float* bTile,
                         float acc[MWI][NWI], int m0, int n0, int kBegin, int kEnd, int M, int N) {
    const int tm = get_local_id(0), tn = get_local_id(1), lid = tn * MDIMC + tm;
    _Pragma("unroll") for (int i = 0; i < MWI; ++i) _Pragma("unroll") for (int j = 0; j < NWI; ++j) acc[i][j] = 0.0f;
    for (int k0 = kBegin; k0 < kEnd; k0 += KWG) {
        fill_tiles(op, aTile, bTile, m0, n0, k0, kEnd, M, N, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        multiply_tiles(aTile, bTile, acc, tm, tn);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

#endif
