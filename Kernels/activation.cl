#include "common.h"

// Element-wise nonlinearities over COUNT elements of any shape. Backward takes the forward's input x and
// follows PyTorch's choice of derivative at the kinks (0 at x == 0 for ReLU; 0 at the bounds for clip).

__kernel void relu_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = positive_part(x[i]);
}

__kernel void relu_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void leaky_relu_forward(__global const float* x, __global float* y, int COUNT, float alpha) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
}

__kernel void leaky_relu_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT,
                                  float alpha) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
}

__kernel void clip_forward(__global const float* x, __global float* y, int COUNT, float low, float high) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = clamp_nan(x[i], low, high);
}

__kernel void clip_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT,
                            float low, float high) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = (x[i] > low && x[i] < high) ? dy[i] : 0.0f;
}

__kernel void sigmoid_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = 1.0f / (1.0f + exp(-x[i]));
}

__kernel void sigmoid_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float s = 1.0f / (1.0f + exp(-x[i]));
        dx[i] = dy[i] * s * (1.0f - s);
    }
}

// SiLU: x · σ(x); its derivative σ(x) · (1 + x · (1 − σ(x))).
__kernel void silu_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = x[i] / (1.0f + exp(-x[i]));
}

__kernel void silu_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float s = 1.0f / (1.0f + exp(-x[i]));
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

// HardSwish: x · clip(x + 3, 0, 6) / 6, with PyTorch's derivative (hardswish_backward): 0 below −3, x/3 + 1/2 on
// [−3, 3], 1 above.
__kernel void hard_swish_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = x[i] * fmin(fmax(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
}

__kernel void hard_swish_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] < -3.0f ? 0.0f : (x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i]);
}

// HardSigmoid: clip(alpha·x + beta, 0, 1); the derivative is alpha strictly inside the ramp (PyTorch's
// hardsigmoid_backward).
__kernel void hard_sigmoid_forward(__global const float* x, __global float* y, int COUNT, float alpha, float beta) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = clamp_nan(alpha * x[i] + beta, 0.0f, 1.0f);
}

__kernel void hard_sigmoid_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT,
                                    float alpha, float beta) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float ramp = alpha * x[i] + beta;
        dx[i] = (ramp > 0.0f && ramp < 1.0f) ? alpha * dy[i] : 0.0f;
    }
}

// Gelu, exact: x·Φ(x) = x/2·(1 + erf(x/√2)); the derivative Φ(x) + x·φ(x).
__kernel void gelu_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = 0.5f * x[i] * (1.0f + erf_float(x[i] * M_SQRT1_2_F));
}

__kernel void gelu_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float v = x[i];
        dx[i] = dy[i] * (0.5f * (1.0f + erf_float(v * M_SQRT1_2_F)) + v * exp(-0.5f * v * v) * (M_2_SQRTPI_F * M_SQRT1_2_F * 0.5f));
    }
}

// Gelu, tanh approximation: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
#define GELU_SQRT_2_OVER_PI 0.7978845608028654f
__kernel void gelu_tanh_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanh(GELU_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
    }
}

__kernel void gelu_tanh_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float v = x[i];
        const float t = tanh(GELU_SQRT_2_OVER_PI * (v + 0.044715f * v * v * v));
        const float inner = GELU_SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * inner);
    }
}

// erf, with derivative 2/√π·e^(−x²).
__kernel void erf_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = erf_float(x[i]);
}

__kernel void erf_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = dy[i] * M_2_SQRTPI_F * exp(-x[i] * x[i]);
}

__kernel void neg_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = -x[i];
}

__kernel void neg_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = -dy[i];
}

// x^p for a constant p: sqrt for 0.5 and products for 1, 2 and 3 (exact, as PyTorch computes them), pow otherwise.
inline float power(float x, float p) {
    if (p == 0.5f) return sqrt(x);
    if (p == 1.0f) return x;
    if (p == 2.0f) return x * x;
    if (p == 3.0f) return x * x * x;
    if (p == 0.0f) return 1.0f;
    return pow(x, p);
}

__kernel void pow_forward(__global const float* x, __global float* y, int COUNT, float p) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = power(x[i], p);
}

__kernel void pow_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT, float p) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = dy[i] * p * power(x[i], p - 1.0f);
}

__kernel void tanh_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = tanh(x[i]);
}

__kernel void tanh_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) {
        const float t = tanh(x[i]);
        dx[i] = dy[i] * (1.0f - t * t);
    }
}

// |x|, with the gradient 0 at 0 (PyTorch's sign).
__kernel void abs_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = fabs(x[i]);
}

__kernel void abs_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] > 0.0f ? dy[i] : (x[i] < 0.0f ? -dy[i] : 0.0f);
}

// Attribution variants of the ReLU backward pass. Guided backpropagation: dx = relu(dy) · [x > 0].
__kernel void relu_guided_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] > 0.0f ? positive_part(dy[i]) : 0.0f;
}

// Deconvnet: dx = relu(dy), whatever x.
__kernel void relu_deconvnet_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = positive_part(dy[i]);
}
