#include "common.h"

// Fully connected layer y = x·wᵀ + b with x: N×IN, w: OUT×IN (PyTorch layout), y: N×OUT.

#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
// Long dot products are summed in two levels, runs of SUM_RUN terms and then the runs, so that rounding grows with
// √(length / SUM_RUN) + √SUM_RUN instead of √length (VGG-16's first layer sums 25,088 terms).
#define SUM_RUN 64

// Global size (OUT, N).
__kernel void linear_forward(__global const float* x, __global const float* w, __global const float* bias,
                             __global float* y, int N, int IN, int OUT) {
    const int o = get_global_id(0), n = get_global_id(1);
    if (o >= OUT || n >= N) return;
    float acc = 0.0f;
    for (int i0 = 0; i0 < IN; i0 += SUM_RUN) {
        float part = 0.0f;
        for (int i = i0; i < min(i0 + SUM_RUN, IN); ++i) part = fma(x[n * IN + i], w[o * IN + i], part);
        acc += part;
    }
#if HAS_BIAS
    acc += bias[o];
#endif
    y[n * OUT + o] = acc;
}

// Global size (IN, N): dx[n,i] = Σ_o dy[n,o]·w[o,i].
__kernel void linear_backward_input(__global const float* dy, __global const float* w, __global float* dx, int N,
                                    int IN, int OUT) {
    const int i = get_global_id(0), n = get_global_id(1);
    if (i >= IN || n >= N) return;
    float acc = 0.0f;
    for (int o0 = 0; o0 < OUT; o0 += SUM_RUN) {
        float part = 0.0f;
        for (int o = o0; o < min(o0 + SUM_RUN, OUT); ++o) part = fma(dy[n * OUT + o], w[o * IN + i], part);
        acc += part;
    }
    dx[n * IN + i] = acc;
}

// Global size (IN, OUT): dw[o,i] = Σ_n dy[n,o]·x[n,i].
__kernel void linear_backward_weight(__global const float* dy, __global const float* x, __global float* dw, int N,
                                     int IN, int OUT) {
    const int i = get_global_id(0), o = get_global_id(1);
    if (i >= IN || o >= OUT) return;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) acc = fma(dy[n * OUT + o], x[n * IN + i], acc);
    dw[o * IN + i] = acc;
}

// Global size (OUT): db[o] = Σ_n dy[n,o].
__kernel void linear_backward_bias(__global const float* dy, __global float* db, int N, int OUT) {
    const int o = get_global_id(0);
    if (o >= OUT) return;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n) acc += dy[n * OUT + o];
    db[o] = acc;
}
