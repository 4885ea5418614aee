#include "common.h"

// Lucid's diversity objective across a batch of N images and its gradient:
//   G_n = A_n A_nᵀ (C×C channel Gram matrix of image n, summed over its HW positions), ĝ_n = G_n / ‖G_n‖,
//   D = (1/N) Σ_{n≠m} <ĝ_n, ĝ_m> = (‖S‖² − N) / N with S = Σ_n ĝ_n.
//   ∂D/∂ĝ_n = (2/N)(S − ĝ_n);  ∂D/∂G_n = (∂D/∂ĝ_n − ĝ_n <∂D/∂ĝ_n, ĝ_n>) / ‖G_n‖;  ∂D/∂A_n = 2 ∂D/∂G_n A_n.
// Scratch rows (ROW floats each): 0..N−1 the Gram matrices, N the sum S, N+1 the norms then the dots <S, ĝ_n>.

// Global size (C, C, N).
__kernel void diversity_gram(__global const float* A, __global float* scratch, int N, int C, int HW, int ROW) {
    const int c = get_global_id(0), d = get_global_id(1), n = get_global_id(2);
    if (c >= C || d >= C || n >= N) return;
    __global const float* a = A + ((size_t)n * C + c) * HW;
    __global const float* b = A + ((size_t)n * C + d) * HW;
    float sum = 0.0f;
    for (int p = 0; p < HW; ++p) sum = fma(a[p], b[p], sum);
    scratch[(size_t)n * ROW + c * C + d] = sum;
}

// Global size (N): ‖G_n‖, floored as tf.nn.l2_normalize does (ε = 1e−10 on the squared norm).
__kernel void diversity_norms(__global float* scratch, int N, int C, int ROW) {
    const int n = get_global_id(0);
    if (n >= N) return;
    __global const float* g = scratch + (size_t)n * ROW;
    float sum = 0.0f;
    for (int e = 0; e < C * C; ++e) sum = fma(g[e], g[e], sum);
    scratch[(size_t)(N + 1) * ROW + n] = sqrt(fmax(sum, 1e-10f));
}

// Global size (C·C): S = Σ_n ĝ_n.
__kernel void diversity_sum(__global float* scratch, int N, int C, int ROW) {
    const int e = get_global_id(0);
    if (e >= C * C) return;
    __global const float* norms = scratch + (size_t)(N + 1) * ROW;
    float sum = 0.0f;
    for (int n = 0; n < N; ++n) sum += scratch[(size_t)n * ROW + e] / norms[n];
    scratch[(size_t)N * ROW + e] = sum;
}

// Global size (N): <S, ĝ_n>.
__kernel void diversity_dots(__global float* scratch, int N, int C, int ROW) {
    const int n = get_global_id(0);
    if (n >= N) return;
    __global const float* g = scratch + (size_t)n * ROW;
    __global const float* s = scratch + (size_t)N * ROW;
    const float norm = scratch[(size_t)(N + 1) * ROW + n];
    float dot = 0.0f;
    for (int e = 0; e < C * C; ++e) dot = fma(s[e], g[e] / norm, dot);
    scratch[(size_t)(N + 1) * ROW + N + n] = dot;
}

// Global size (HW, C, N): out = gradient − weight · ∂D/∂A.
__kernel void diversity_backward(__global const float* A, __global const float* gradient, __global float* out,
                                 __global const float* scratch, int N, int C, int HW, int ROW, float weight) {
    const int p = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (p >= HW || c >= C || n >= N) return;
    __global const float* g = scratch + (size_t)n * ROW;
    __global const float* s = scratch + (size_t)N * ROW;
    const float norm = scratch[(size_t)(N + 1) * ROW + n];
    const float dot = scratch[(size_t)(N + 1) * ROW + N + n];
    const float twoOverN = 2.0f / (float)N;
    // <∂D/∂ĝ_n, ĝ_n> = (2/N)(<S, ĝ_n> − 1), since ‖ĝ_n‖ = 1.
    const float projection = twoOverN * (dot - 1.0f);
    float sum = 0.0f;
    for (int d = 0; d < C; ++d) {
        const float unit = g[c * C + d] / norm;
        const float dG = (twoOverN * (s[c * C + d] - unit) - unit * projection) / norm;
        sum = fma(dG, A[((size_t)n * C + d) * HW + p], sum);
    }
    const size_t i = ((size_t)n * C + c) * HW + p;
    out[i] = gradient[i] - weight * 2.0f * sum;
}
