#include "common.h"

// Fully connected layer y = x·wᵀ + b with x: N×IN, w: OUT×IN (PyTorch layout), y: N×OUT. The input and weight
// gradients are matrix products (matmul_tiled in gemm.cl).

#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
// Vector width of the dot products (the host passes the device's): each work-item walks its weight row VW floats
// at a time, so a CPU streams the 400 MB of VGG-16's first layer with full-width loads.
#ifndef VW
#define VW 4
#endif
#define VT CONCAT(float, VW)
#define CONCAT(a, b) CONCAT_(a, b)
#define CONCAT_(a, b) a##b
// Long dot products are summed in two levels, runs of SUM_RUN terms per lane and then the runs, so that rounding
// grows with √(length / SUM_RUN) + √SUM_RUN instead of √length (VGG-16's first layer sums 25,088 terms).
#define SUM_RUN 16

// Global size (OUT, N).
__kernel void linear_forward(__global const float* x, __global const float* w, __global const float* bias,
                             __global float* y, int N, int IN, int OUT) {
    const int o = get_global_id(0), n = get_global_id(1);
    if (o >= OUT || n >= N) return;
    __global const float* xRow = x + (size_t)n * IN;
    __global const float* wRow = w + (size_t)o * IN;
    const int vectors = IN / VW;
    VT acc = 0.0f;
    for (int v0 = 0; v0 < vectors; v0 += SUM_RUN) {
        VT part = 0.0f;
        for (int v = v0; v < min(v0 + SUM_RUN, vectors); ++v) {
            part = fma(CONCAT(vload, VW)(v, xRow), CONCAT(vload, VW)(v, wRow), part);
        }
        acc += part;
    }
    float lanes[VW];
    CONCAT(vstore, VW)(acc, 0, lanes);
    float total = 0.0f, tail = 0.0f;
    for (int i = 0; i < VW; ++i) total += lanes[i];
    for (int i = vectors * VW; i < IN; ++i) tail = fma(xRow[i], wRow[i], tail);
    total += tail;
#if HAS_BIAS
    total += bias[o];
#endif
    y[(size_t)n * OUT + o] = total;
}

// Global size (OUT): db[o] = Σ_n dy[n,o].
__kernel void linear_backward_bias(__global const float* dy, __global float* db, int N, int OUT) {
    const int o = get_global_id(0);
    if (o >= OUT) return;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) acc += dy[n * OUT + o];
    db[o] = acc;
}
