#include "common.h"

// MaCo's parameterization (Fel et al., 2023, "Unlocking Feature Visualization for Deeper Networks with MAgnitude
// Constrained Optimization"): the spectrum from a fixed magnitude and an optimized phase, per-image
// standardization of the phase and of the image, and the transparency map's accumulation.

// Global size (N·C·H·F): spectrum (2 floats per entry, irfft2's interleaved layout) = M·(cos φ, sin φ); the
// magnitude table (C·H·F entries) is shared by every image.
__kernel void polar_spectrum_forward(__global const float* magnitude, __global const float* phase,
                                     __global float* spectrum, int COUNT, int TABLE) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    const float m = magnitude[i % TABLE];
    float c;
    const float s = sincos(phase[i], &c);
    spectrum[2 * i] = m * c;
    spectrum[2 * i + 1] = m * s;
}

// Global size (N·C·H·F): ∂L/∂φ = M·(cos φ·∂L/∂im − sin φ·∂L/∂re).
__kernel void polar_spectrum_backward(__global const float* magnitude, __global const float* phase,
                                      __global const float* dS, __global float* dphase, int COUNT, int TABLE) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    float c;
    const float s = sincos(phase[i], &c);
    dphase[i] = magnitude[i % TABLE] * (c * dS[2 * i + 1] - s * dS[2 * i]);
}

#define STANDARDIZE_GROUP 256

// The mean and population standard deviation of `n` values, two passes, in one work-group of STANDARDIZE_GROUP.
inline float2 group_moments(__global const float* x, int n, __local float* scratch) {
    const int id = get_local_id(0);
    float part = 0.0f;
    for (int i = id; i < n; i += STANDARDIZE_GROUP) part += x[i];
    const float mean = group_sum(part, scratch) / (float)n;
    part = 0.0f;
    for (int i = id; i < n; i += STANDARDIZE_GROUP) part += (x[i] - mean) * (x[i] - mean);
    return (float2)(mean, sqrt(group_sum(part, scratch) / (float)n));
}

// s = σ + ε (MaCo's image standardization), or √(σ² + ε) with EPSILON_IN_VARIANCE (ONNX's LayerNormalization,
// InstanceNormalization, GroupNormalization).
inline float standardize_denominator(float deviation, float epsilon) {
#if EPSILON_IN_VARIANCE
    return sqrt(deviation * deviation + epsilon);
#else
    return deviation + epsilon;
#endif
}

// The backward pass's second term per unit of (x − μ): Σ g·(x − μ)·s′ / (n·σ·s²), with s′ = ds/dσ (σ/s for
// √(σ² + ε), 1 for σ + ε, where a constant row has none).
inline float standardize_curvature(float projection, float deviation, float s, int n) {
#if EPSILON_IN_VARIANCE
    return projection / ((float)n * s * s * s);
#else
    return deviation > 0.0f ? projection / ((float)n * deviation * s * s) : 0.0f;
#endif
}

// Global size (STANDARDIZE_GROUP, ROWS), work-groups (STANDARDIZE_GROUP, 1): one group per row of ELEMENTS values.
__kernel void standardize_forward(__global const float* x, __global float* y, int ELEMENTS, float epsilon) {
    __local float scratch[STANDARDIZE_GROUP];
    const size_t base = (size_t)get_global_id(1) * ELEMENTS;
    const float2 moments = group_moments(x + base, ELEMENTS, scratch);
    const float scale = 1.0f / standardize_denominator(moments.y, epsilon);
    for (int i = get_local_id(0); i < ELEMENTS; i += STANDARDIZE_GROUP) y[base + i] = (x[base + i] - moments.x) * scale;
}

// Global size (STANDARDIZE_GROUP, ROWS), as the forward: dx = (g − mean g)/s − (x − μ)·Σ g·(x − μ)·s′ / (n·σ·s²),
// s′ = ds/dσ (1 for σ + ε, σ/s for √(σ² + ε)); with σ + ε the second term is 0 for a constant row.
__kernel void standardize_backward(__global const float* x, __global const float* dy, __global float* dx, int ELEMENTS,
                                   float epsilon) {
    __local float scratch[STANDARDIZE_GROUP];
    const int id = get_local_id(0);
    const size_t base = (size_t)get_global_id(1) * ELEMENTS;
    const float2 moments = group_moments(x + base, ELEMENTS, scratch);
    float sum = 0.0f, projection = 0.0f;
    for (int i = id; i < ELEMENTS; i += STANDARDIZE_GROUP) {
        sum += dy[base + i];
        projection += dy[base + i] * (x[base + i] - moments.x);
    }
    const float gradientMean = group_sum(sum, scratch) / (float)ELEMENTS;
    projection = group_sum(projection, scratch);
    const float s = standardize_denominator(moments.y, epsilon);
    const float curvature = standardize_curvature(projection, moments.y, s, ELEMENTS);
    for (int i = id; i < ELEMENTS; i += STANDARDIZE_GROUP) {
        dx[base + i] = (dy[base + i] - gradientMean) / s - (x[base + i] - moments.x) * curvature;
    }
}

// The same two kernels with one work-item per row, for rows short enough that a work-group's barriers would cost
// more than the row's arithmetic (PoCL runs every barrier as a loop over the group: LayerNorm over 96 channels took
// 8 ms for 3136 rows). Sums run ROW_PART terms at a time into a part, the parts into the total with Kahan's
// compensation, so a row of thousands rounds about as little as the work-group's tree of partial sums.
#define ROW_PART 16

// The sum of `term` (an expression of i) over a row of n.
#define ROW_SUM(result, n, term)                                               \
    {                                                                          \
        result = 0.0f;                                                         \
        float lost = 0.0f;                                                     \
        for (int i0 = 0; i0 < (n); i0 += ROW_PART) {                           \
            float part = 0.0f;                                                 \
            for (int i = i0; i < min(i0 + ROW_PART, (n)); ++i) part += (term); \
            const float corrected = part - lost, next = result + corrected;    \
            lost = (next - result) - corrected;                                \
            result = next;                                                     \
        }                                                                      \
    }

inline float2 row_moments(__global const float* x, int n) {
    float total;
    ROW_SUM(total, n, x[i])
    const float mean = total / (float)n;
    ROW_SUM(total, n, (x[i] - mean) * (x[i] - mean))
    return (float2)(mean, sqrt(total / (float)n));
}

// Global size (ROWS): standardize_forward for one row of ELEMENTS values per work-item.
__kernel void standardize_rows_forward(__global const float* x, __global float* y, int ROWS, int ELEMENTS,
                                       float epsilon) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    x += (size_t)row * ELEMENTS;
    y += (size_t)row * ELEMENTS;
    const float2 moments = row_moments(x, ELEMENTS);
    const float scale = 1.0f / standardize_denominator(moments.y, epsilon);
    for (int i = 0; i < ELEMENTS; ++i) y[i] = (x[i] - moments.x) * scale;
}

// Global size (ROWS): standardize_backward for one row per work-item.
__kernel void standardize_rows_backward(__global const float* x, __global const float* dy, __global float* dx,
                                        int ROWS, int ELEMENTS, float epsilon) {
    const int row = get_global_id(0);
    if (row >= ROWS) return;
    const size_t base = (size_t)row * ELEMENTS;
    x += base;
    dy += base;
    dx += base;
    const float2 moments = row_moments(x, ELEMENTS);
    float sum, projection;
    ROW_SUM(sum, ELEMENTS, dy[i])
    ROW_SUM(projection, ELEMENTS, dy[i] * (x[i] - moments.x))
    const float gradientMean = sum / (float)ELEMENTS;
    const float s = standardize_denominator(moments.y, epsilon);
    const float curvature = standardize_curvature(projection, moments.y, s, ELEMENTS);
    for (int i = 0; i < ELEMENTS; ++i) dx[i] = (dy[i] - gradientMean) / s - (x[i] - moments.x) * curvature;
}

// Global size (COUNT): accumulator += |gradient|.
__kernel void accumulate_absolute(__global const float* gradient, __global float* accumulator, int COUNT) {
    const int i = get_global_id(0);
    if (i >= COUNT) return;
    accumulator[i] += fabs(gradient[i]);
}
