// The register tile shared by matmul_tiled (gemm.cl) and conv2d_implicit_gemm (conv_gemm.cl): each work-item
// computes TM rows × TN = NV·VW columns, held as TM × NV vectors of VW floats (on a CPU under PoCL, a vector maps
// to an AVX register). conv2d_implicit_gemm sums in two levels, about KT terms into `part` and the parts into
// `acc`, so rounding grows with √KT + √(K/KT) rather than √K; matmul_tiled keeps one level (see there).

#ifndef CONVLENS_REGISTER_TILE_H
#define CONVLENS_REGISTER_TILE_H

#ifndef TM
#define TM 4
#endif
#ifndef VW
#define VW 4
#endif
#ifndef NV
#define NV 1
#endif
#ifndef KT
#define KT 16
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

#define TN (NV * VW)
#define CONCAT(a, b) CONCAT_(a, b)
#define CONCAT_(a, b) a##b
#if VW == 1
#define VT float
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
#define VT CONCAT(float, VW)
#define VLOAD(p) CONCAT(vload, VW)(0, p)
#define VSTORE(v, p) CONCAT(vstore, VW)(v, 0, p)
#endif

#endif
