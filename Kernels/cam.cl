#include "common.h"

// Class activation maps, after pytorch-grad-cam: channel weights, weighted sums with ReLU, per-image min-max
// normalization, bilinear resizing with half-pixel centres, and the coloured overlay. Forward only.

// The rule kernels are built per CAM rule from Swift's CAMRule, their one source (OpenCLBackend.ruleDefines):
// RULE_<NAME> is every rule's code and RULE the one this program computes.
#ifndef RULE
#define RULE (-1)
#endif

// Global size (K, N): the weight of channel k of image n from its P positions.
// `epsilon` is the rule's denominator term (CAMRule.epsilon).
__kernel void cam_channel_weights(__global const float* A, __global const float* G, __global float* weights,
                                  int N, int K, int P, float epsilon) {
    const int k = get_global_id(0), n = get_global_id(1);
    if (k >= K || n >= N) return;
    __global const float* a = A + ((size_t)n * K + k) * P;
    __global const float* g = G + ((size_t)n * K + k) * P;
    float weight = 0.0f;
#if RULE == RULE_GRADCAM
    for (int p = 0; p < P; ++p) weight += g[p];
    weight /= (float)P;
#else
    float total = 0.0f;
    for (int p = 0; p < P; ++p) total += a[p];
    for (int p = 0; p < P; ++p) {
#if RULE == RULE_XGRADCAM
        weight += g[p] * a[p] / (total + epsilon);
#else
        if (g[p] != 0.0f) {  // Grad-CAM++
            const float g2 = g[p] * g[p], g3 = g2 * g[p];
            weight += positive_part(g[p]) * (g2 / (2.0f * g2 + total * g3 + epsilon));
        }
#endif
    }
#endif
    weights[(size_t)n * K + k] = weight;
}

// Global size (P, N): map = relu(Σ_k w[n, k] · A[n, k]).
__kernel void cam_weighted_sum(__global const float* A, __global const float* weights, __global float* map,
                               int N, int K, int P) {
    const int p = get_global_id(0), n = get_global_id(1);
    if (p >= P || n >= N) return;
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) sum = fma(weights[(size_t)n * K + k], A[((size_t)n * K + k) * P + p], sum);
    map[(size_t)n * P + p] = positive_part(sum);
}

// Global size (P, N): map = relu(Σ_k f(G) · A), f = identity (HiRes-CAM) or relu (Layer-CAM).
__kernel void cam_pixelwise_sum(__global const float* A, __global const float* G, __global float* map,
                                int N, int K, int P) {
    const int p = get_global_id(0), n = get_global_id(1);
    if (p >= P || n >= N) return;
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        const size_t i = ((size_t)n * K + k) * P + p;
#if RULE == RULE_LAYERCAM
        sum = fma(positive_part(G[i]), A[i], sum);
#else
        sum = fma(G[i], A[i], sum);
#endif
    }
    map[(size_t)n * P + p] = positive_part(sum);
}

// Global size (N): (x − min) / (max − min + epsilon) over each image's M values. One work-item per image walks it
// twice: maps are small (one plane of at most a few hundred thousand values) and come once per explanation.
__kernel void min_max_normalize(__global const float* x, __global float* y, int N, int M, float epsilon) {
    const int n = get_global_id(0);
    if (n >= N) return;
    __global const float* in = x + (size_t)n * M;
    __global float* out = y + (size_t)n * M;
    float low = in[0], high = in[0];
    for (int i = 1; i < M; ++i) {
        low = fmin(low, in[i]);
        high = fmax(high, in[i]);
    }
    const float range = high - low;
    for (int i = 0; i < M; ++i) out[i] = (in[i] - low) / (range + epsilon);
}

// Global size (P, N): out = alpha · lut[⌊255 · clamp(map)⌋] + (1 − alpha) · image, RGB planes.
__kernel void overlay(__global const float* map, __global const float* lut, __global const float* image,
                      __global float* out, int N, int P, float alpha) {
    const int p = get_global_id(0), n = get_global_id(1);
    if (p >= P || n >= N) return;
    const int level = (int)(255.0f * clamp(map[(size_t)n * P + p], 0.0f, 1.0f));
    for (int c = 0; c < 3; ++c) {
        const size_t i = ((size_t)n * 3 + c) * P + p;
        out[i] = alpha * lut[level * 3 + c] + (1.0f - alpha) * image[i];
    }
}

// Eigen-CAM (pytorch-grad-cam's get_2d_projection): per image, the activations X (positions × channels, centred
// per channel) projected on their first principal component v, with ReLU. The component comes from the S × S
// Gram matrix of the smaller side (S = min(P, K)) by power iteration, in one work-group per image. Sign
// convention (LAPACK's is arbitrary): v's entries over channels sum to a positive number.

// Global size (K, N): each channel's mean over the positions.
__kernel void cam_channel_means(__global const float* x, __global float* means, int N, int K, int P) {
    const int k = get_global_id(0), n = get_global_id(1);
    if (k >= K || n >= N) return;
    __global const float* plane = x + ((size_t)n * K + k) * P;
    float total = 0.0f;
    for (int p = 0; p < P; ++p) total += plane[p];
    means[n * K + k] = total / (float)P;
}

// Global size (S, S, N): G[a, b] = Σ over the other side of the centred products (positions when P ≤ K: a, b
// are positions, summed over channels; else a, b are channels, summed over positions).
__kernel void cam_principal_gram(__global const float* x, __global const float* means, __global float* gram, int N,
                                 int K, int P) {
    const int a = get_global_id(0), b = get_global_id(1), n = get_global_id(2);
    const int S = min(P, K);
    if (a >= S || b >= S || n >= N) return;
    __global const float* image = x + (size_t)n * K * P;
    __global const float* mean = means + n * K;
    float total = 0.0f;
    if (P <= K) {
        for (int k = 0; k < K; ++k) total += (image[k * P + a] - mean[k]) * (image[k * P + b] - mean[k]);
    } else {
        for (int p = 0; p < P; ++p) total += (image[a * P + p] - mean[a]) * (image[b * P + p] - mean[b]);
    }
    gram[((size_t)n * S + a) * S + b] = total;
}

#define EIGEN_GROUP 64

// Global size (EIGEN_GROUP, N), work-groups (EIGEN_GROUP, 1): one group per image. `vectors` holds 2·S floats
// per image. Writes the map N×P.
__kernel void cam_principal_projection(__global const float* x, __global const float* means,
                                       __global const float* gram, __global float* vectors, __global float* map,
                                       int K, int P) {
    __local float scratch[EIGEN_GROUP];
    const int id = get_local_id(0), n = get_global_id(1);
    const int S = min(P, K);
    __global const float* G = gram + (size_t)n * S * S;
    __global const float* image = x + (size_t)n * K * P;
    __global const float* mean = means + n * K;
    __global float* v = vectors + (size_t)n * 2 * S;
    __global float* next = v + S;

    // A start with a component along almost any eigenvector: not all ones, which symmetric data can null.
    float part = 0.0f;
    for (int i = id; i < S; i += EIGEN_GROUP) {
        v[i] = 1.0f + (float)(i % 7) / 7.0f;
        part += v[i] * v[i];
    }
    float norm = sqrt(group_sum(part, scratch));
    for (int i = id; i < S; i += EIGEN_GROUP) v[i] /= norm;
    barrier(CLK_GLOBAL_MEM_FENCE);
    float previous = 0.0f;
    for (int iteration = 0; iteration < 2000; ++iteration) {
        part = 0.0f;
        for (int i = id; i < S; i += EIGEN_GROUP) {
            float total = 0.0f;
            for (int j = 0; j < S; ++j) total += G[(size_t)i * S + j] * v[j];
            next[i] = total;
            part += total * total;
        }
        norm = sqrt(group_sum(part, scratch));
        if (norm == 0.0f) break;
        part = 0.0f;
        for (int i = id; i < S; i += EIGEN_GROUP) {
            const float updated = next[i] / norm;
            part += (updated - v[i]) * (updated - v[i]);
            next[i] = updated;
        }
        const float change = group_sum(part, scratch);
        for (int i = id; i < S; i += EIGEN_GROUP) v[i] = next[i];
        barrier(CLK_GLOBAL_MEM_FENCE);
        // The updates shrink by the ratio of the two largest eigenvalues, ρ = √(change / previous), so the error
        // still in v is about √change·ρ/(1 − ρ): a small step is not convergence when the gap is small. Stop when
        // that estimate falls below 1e−13·S (squared), or when rounding (about S·(1e−7)²) stops the steps from
        // shrinking at all.
        const float rate = iteration == 0 ? 1.0f : sqrt(change / previous);
        if (rate < 1.0f && change * (rate / (1.0f - rate)) * (rate / (1.0f - rate)) < 1e-13f * (float)S) break;
        if (iteration > 0 && rate >= 1.0f && change < 1e-11f * (float)S) break;
        previous = change;
    }

    // Positions side: v is u (over positions) and the projection X·(Xᵀu/‖Xᵀu‖) = G·u/√(uᵀGu); its channel sum
    // is Σ_p rowsum[p]·u[p]/√(uᵀGu). Channels side: v is the component; project each position on it.
    float scale = 1.0f, signPart = 0.0f;
    if (P <= K) {
        part = 0.0f;
        for (int i = id; i < S; i += EIGEN_GROUP) {
            float total = 0.0f, rowsum = 0.0f;
            for (int j = 0; j < S; ++j) total += G[(size_t)i * S + j] * v[j];
            for (int k = 0; k < K; ++k) rowsum += image[k * P + i] - mean[k];
            next[i] = total;
            part += v[i] * total;
            signPart += rowsum * v[i];
        }
        const float lambda = group_sum(part, scratch);
        scale = lambda > 0.0f ? rsqrt(lambda) : 0.0f;
    } else {
        for (int i = id; i < S; i += EIGEN_GROUP) signPart += v[i];
    }
    const float sign = group_sum(signPart, scratch) < 0.0f ? -1.0f : 1.0f;
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (int p = id; p < P; p += EIGEN_GROUP) {
        float projection;
        if (P <= K) {
            projection = next[p] * scale;
        } else {
            projection = 0.0f;
            for (int k = 0; k < K; ++k) projection += (image[k * P + p] - mean[k]) * v[k];
        }
        map[(size_t)n * P + p] = positive_part(sign * projection);
    }
}
