#include "common.h"

// Optimizer steps for gradient ascent, in place. Bias corrections (1 − β^t) are computed on the host.

// Global size (COUNT).
__kernel void adam_step(__global float* p, __global const float* g, __global float* m, __global float* v,
                        int COUNT, float lr, float beta1, float beta2, float epsilon, float correction1,
                        float correction2) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    const float first = beta1 * m[i] + (1.0f - beta1) * g[i];
    const float second = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    m[i] = first;
    v[i] = second;
    p[i] += lr * (first / correction1) / (sqrt(second / correction2) + epsilon);
}

// Global size (COUNT).
__kernel void sgd_step(__global float* p, __global const float* g, int COUNT, float lr) {
    const int i = get_global_id(0);
    if (i < COUNT) p[i] += lr * g[i];
}
