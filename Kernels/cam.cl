#include "common.h"

// Class activation maps, after pytorch-grad-cam: channel weights, weighted sums with ReLU, per-image min-max
// normalization, bilinear resizing with half-pixel centres, and the coloured overlay. Forward only.

// CAMRule codes (match the launcher).
#define RULE_GRADCAM 0
#define RULE_GRADCAM_PLUS_PLUS 1
#define RULE_XGRADCAM 2
#define RULE_HIRESCAM 3
#define RULE_LAYERCAM 4

// Global size (K, N): the weight of channel k of image n from its P positions.
// `epsilon` is the rule's denominator term (CAMRule.epsilon).
__kernel void cam_channel_weights(__global const float* A, __global const float* G, __global float* weights,
                                  int N, int K, int P, int rule, float epsilon) {
    const int k = get_global_id(0), n = get_global_id(1);
    if (k >= K || n >= N) return;
    __global const float* a = A + ((size_t)n * K + k) * P;
    __global const float* g = G + ((size_t)n * K + k) * P;
    float weight = 0.0f;
    if (rule == RULE_GRADCAM) {
        for (int p = 0; p < P; ++p) weight += g[p];
        weight /= (float)P;
    } else {
        float total = 0.0f;
        for (int p = 0; p < P; ++p) total += a[p];
        for (int p = 0; p < P; ++p) {
            if (rule == RULE_XGRADCAM) {
                weight += g[p] * a[p] / (total + epsilon);
            } else if (g[p] != 0.0f) {  // Grad-CAM++
                const float g2 = g[p] * g[p], g3 = g2 * g[p];
                weight += fmax(g[p], 0.0f) * (g2 / (2.0f * g2 + total * g3 + epsilon));
            }
        }
    }
    weights[(size_t)n * K + k] = weight;
}

// Global size (P, N): map = relu(Σ_k w[n, k] · A[n, k]).
__kernel void cam_weighted_sum(__global const float* A, __global const float* weights, __global float* map,
                               int N, int K, int P) {
    const int p = get_global_id(0), n = get_global_id(1);
    if (p >= P || n >= N) return;
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) sum = fma(weights[(size_t)n * K + k], A[((size_t)n * K + k) * P + p], sum);
    map[(size_t)n * P + p] = fmax(sum, 0.0f);
}

// Global size (P, N): map = relu(Σ_k f(G) · A), f = identity (HiRes-CAM) or relu (Layer-CAM).
__kernel void cam_pixelwise_sum(__global const float* A, __global const float* G, __global float* map,
                                int N, int K, int P, int rule) {
    const int p = get_global_id(0), n = get_global_id(1);
    if (p >= P || n >= N) return;
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        const size_t i = ((size_t)n * K + k) * P + p;
        sum = fma(rule == RULE_LAYERCAM ? fmax(G[i], 0.0f) : G[i], A[i], sum);
    }
    map[(size_t)n * P + p] = fmax(sum, 0.0f);
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

// The two source indices and the second's weight along one axis (PyTorch's area_pixel_compute_source_index):
// half-pixel centres, or with ALIGN the corner centres mapped onto each other.
inline void bilinear_taps(int d, int in_size, int out_size, int align, int* first, int* second, float* weight) {
    const float source = align
        ? (out_size > 1 ? (float)d * ((float)(in_size - 1) / (float)(out_size - 1)) : 0.0f)
        : fmax(((float)d + 0.5f) * ((float)in_size / (float)out_size) - 0.5f, 0.0f);
    *first = min((int)source, in_size - 1);
    *second = min(*first + 1, in_size - 1);
    *weight = source - (float)*first;
}

// Global size (OW, OH, planes).
__kernel void resize_bilinear(__global const float* x, __global float* y, int planes, int H, int W, int OH, int OW,
                              int align) {
    const int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= OW || oy >= OH || plane >= planes) return;
    int top, bottom, left, right;
    float dy, dx;
    bilinear_taps(oy, H, OH, align, &top, &bottom, &dy);
    bilinear_taps(ox, W, OW, align, &left, &right, &dx);
    __global const float* in = x + (size_t)plane * H * W;
    const float upper = (1.0f - dx) * in[top * W + left] + dx * in[top * W + right];
    const float lower = (1.0f - dx) * in[bottom * W + left] + dx * in[bottom * W + right];
    y[((size_t)plane * OH + oy) * OW + ox] = (1.0f - dy) * upper + dy * lower;
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
