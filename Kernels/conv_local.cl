#include "common.h"
#include "epilogue.h"

// Convolutions as local_tile.h's work-group tiled product, every operand read in place: the tiles are filled
// straight from x, dy and the weights (NCHW, weights COUT × C/GROUPS × KH × KW), with no im2col matrix and no
// padded copy. Within group g (the third global dimension), with P = OH·OW positions per image and the window's
// tap (kh, kw) at input (oh·SH − PT + kh·DH, ow·SW − PL + kw·DW):
//   PASS 0, forward:         y(co, (image, oh, ow))  = Σ_(ci, kh, kw) W(co, ci, kh, kw) · x(image, ci, tap)
//   PASS 1, input gradient:  dx(ci, (image, ih, iw)) = Σ_(co, kh, kw) W(co, ci, kh, kw) · dy(image, co, oh, ow)
//                            over the (oh, ow) whose tap (kh, kw) lands on (ih, iw): any stride, dilation, padding
//   PASS 2, weight gradient: dW(co, (ci, kh, kw))    = Σ_(image, oh, ow) dy(image, co, oh, ow) · x(image, ci, tap)
//                            with the sum split into chunks of `chunk` terms (split-K): chunk s of group g is
//                            work-group layer g·splits + s, and writes its partial sums to its own copy of dW,
//                            which split_k_sum adds up in order (the same bytes on every run, unlike atomics).
// Window and pass arrive as defines (KH, KW, SH, SW, DH, DW, PT, PL, GROUPS, PASS), sizes as arguments.

#ifndef PASS
#define PASS 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#define TAPS (KH * KW)

#if PASS == 0
#define A_K_FAST 1
#define B_K_FAST 0
#elif PASS == 1
#define A_K_FAST 1
#define B_K_FAST 0
#else
#define A_K_FAST 1
#define B_K_FAST 1
#endif

// x, dy and the weights of one group, and the sizes the loaders index them by.
struct TileOperands {
    __global const float* weight;  // the group's first output channel (PASS 0, 1)
    __global const float* x;       // image 0's first channel of the group (PASS 0, 2)
    __global const float* dy;      // image 0's first channel of the group (PASS 1, 2)
    int C, H, W, COUT, OH, OW;
};

// x(image, ci, ih, iw) with ih, iw possibly outside the plane (0 there): the group's channels are ci.
inline float x_at(const struct TileOperands op, int image, int ci, int ih, int iw) {
    if (ih < 0 || ih >= op.H || iw < 0 || iw >= op.W) return 0.0f;
    return op.x[(((size_t)image * op.C + ci) * op.H + ih) * op.W + iw];
}

#if PASS == 0
// A(m, k) = W(co = m, k = (ci, kh, kw)); B(k, n) = x at tap (kh, kw) of position n = (image, oh, ow).
inline float load_a(const struct TileOperands op, int m, int k) {
    return op.weight[(size_t)m * (op.C / GROUPS * TAPS) + k];
}
inline float load_b(const struct TileOperands op, int k, int n) {
    const int ci = k / TAPS, kh = k % TAPS / KW, kw = k % KW;
    const int P = op.OH * op.OW, image = n / P, oh = n % P / op.OW, ow = n % op.OW;
    return x_at(op, image, ci, oh * SH - PT + kh * DH, ow * SW - PL + kw * DW);
}
#elif PASS == 1
// A(m, k) = W(co, ci = m, kh, kw) for k = (co, kh, kw); B(k, n) = dy(image, co, oh, ow) whose tap (kh, kw) is
// input position n = (image, ih, iw), or 0 where no output's tap lands there.
inline float load_a(const struct TileOperands op, int m, int k) {
    const int co = k / TAPS;
    return op.weight[((size_t)co * (op.C / GROUPS) + m) * TAPS + k % TAPS];
}
inline float load_b(const struct TileOperands op, int k, int n) {
    const int co = k / TAPS, kh = k % TAPS / KW, kw = k % KW;
    const int plane = op.H * op.W, image = n / plane, ih = n % plane / op.W, iw = n % op.W;
    const int th = ih + PT - kh * DH, tw = iw + PL - kw * DW;
    if (th < 0 || tw < 0 || th % SH != 0 || tw % SW != 0) return 0.0f;
    const int oh = th / SH, ow = tw / SW;
    if (oh >= op.OH || ow >= op.OW) return 0.0f;
    return op.dy[(((size_t)image * op.COUT + co) * op.OH + oh) * op.OW + ow];
}
#else
// A(m, k) = dy(image, co = m, oh, ow) for k = (image, oh, ow); B(k, n) = x at tap (kh, kw) of that position, for
// n = (ci, kh, kw).
inline float load_a(const struct TileOperands op, int m, int k) {
    const int P = op.OH * op.OW;
    return op.dy[((size_t)(k / P) * op.COUT + m) * P + k % P];
}
inline float load_b(const struct TileOperands op, int k, int n) {
    const int ci = n / TAPS, kh = n % TAPS / KW, kw = n % KW;
    const int P = op.OH * op.OW, image = k / P, oh = k % P / op.OW, ow = k % op.OW;
    return x_at(op, image, ci, oh * SH - PT + kh * DH, ow * SW - PL + kw * DW);
}
#endif

#include "local_tile.h"

// Global size (⌈M/MWG⌉·MDIMC, ⌈N/NWG⌉·NDIMC, layers), work-groups (MDIMC, NDIMC, 1), with M, N, K the product's
// sizes for the pass (see above) and `layers` GROUPS, or GROUPS·splits for the weight gradient.
#if PASS == 0
__kernel void conv2d_local_forward(__global const float* x, __global const float* w, __global const float* bias,
                                   __global float* y, int N, int C, int H, int W, int COUT, int OH, int OW,
                                   __global const float* R, float epilogueA, float epilogueB) {
    const int g = get_global_id(2), rows = COUT / GROUPS, terms = C / GROUPS * TAPS, P = OH * OW;
    const struct TileOperands op = {w + (size_t)g * rows * terms, x + (size_t)g * (C / GROUPS) * H * W, 0,
                                    C, H, W, COUT, OH, OW};
#elif PASS == 1
__kernel void conv2d_local_backward_input(__global const float* dy, __global const float* w, __global float* dx,
                                          int N, int C, int H, int W, int COUT, int OH, int OW) {
    const int g = get_global_id(2), rows = C / GROUPS, terms = COUT / GROUPS * TAPS, P = H * W;
    const struct TileOperands op = {w + (size_t)g * (COUT / GROUPS) * rows * TAPS, 0,
                                    dy + (size_t)g * (COUT / GROUPS) * OH * OW, C, H, W, COUT, OH, OW};
#else
__kernel void conv2d_local_backward_weight(__global const float* dy, __global const float* x, __global float* dw,
                                           int N, int C, int H, int W, int COUT, int OH, int OW, int splits,
                                           int chunk) {
    const int g = get_global_id(2) / splits, split = get_global_id(2) % splits;
    const int rows = COUT / GROUPS, columns = C / GROUPS * TAPS, P = OH * OW;
    const struct TileOperands op = {0, x + (size_t)g * (C / GROUPS) * H * W, dy + (size_t)g * rows * P,
                                    C, H, W, COUT, OH, OW};
#endif
    __local float aTile[KWG * A_LOCAL_ROW];
    __local float bTile[KWG * B_LOCAL_ROW];
    const int m0 = get_group_id(0) * MWG, n0 = get_group_id(1) * NWG;
    const int tm = get_local_id(0), tn = get_local_id(1);
    float acc[MWI][NWI];
#if PASS == 2
    const int kBegin = split * chunk, kEnd = min(N * P, kBegin + chunk);
    tile_product(op, aTile, bTile, acc, m0, n0, kBegin, kEnd, rows, columns);
    // splits == 1 writes dW itself; else layer `split` of the partial sums, each laid out as dW.
    __global float* out = dw + ((size_t)split * COUT + (size_t)g * rows) * columns;
    _Pragma("unroll") for (int i = 0; i < MWI; ++i) {
        const int m = TILE_ROW(m0, tm, i);
        if (m >= rows) continue;
        _Pragma("unroll") for (int j = 0; j < NWI; ++j) {
            const int n = TILE_COLUMN(n0, tn, j);
            if (n < columns) out[(size_t)m * columns + n] = acc[i][j];
        }
    }
#else
    tile_product(op, aTile, bTile, acc, m0, n0, 0, terms, rows, N * P);
    // Channel m of the group at position n = (image, position within the plane) of the target.
#if PASS == 0
    const int targetChannels = COUT;
    __global float* target = y + (size_t)g * rows * P;
#else
    const int targetChannels = C;
    __global float* target = dx + (size_t)g * rows * P;
#endif
    _Pragma("unroll") for (int i = 0; i < MWI; ++i) {
        const int m = TILE_ROW(m0, tm, i);
        if (m >= rows) continue;
        _Pragma("unroll") for (int j = 0; j < NWI; ++j) {
            const int n = TILE_COLUMN(n0, tn, j);
            if (n >= N * P) continue;
            const size_t at = ((size_t)(n / P) * targetChannels + m) * P + n % P;
            float value = acc[i][j];
#if PASS == 0
#if HAS_BIAS
            value += bias[g * rows + m];
#endif
            value = epilogue_scalar(value, R + (size_t)g * rows * P + at, epilogueA, epilogueB);
#endif
            target[at] = value;
        }
    }
#endif
}

// Global size (count): dw[i] = Σ_s partial[s·count + i], s = 0 ..< splits in order.
__kernel void split_k_sum(__global const float* partial, __global float* dw, int count, int splits) {
    const int i = get_global_id(0);
    if (i >= count) return;
    float sum = 0.0f;
    for (int s = 0; s < splits; ++s) sum += partial[(size_t)s * count + i];
    dw[i] = sum;
}
