#include "common.h"

// Element-wise nonlinearities over COUNT elements of any shape. Backward takes the forward's input x and
// follows PyTorch's choice of derivative at the kinks (0 at x == 0 for ReLU; 0 at the bounds for clip).

__kernel void relu_forward(__global const float* x, __global float* y, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) y[i] = fmax(x[i], 0.0f);
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
    if (i < COUNT) y[i] = fmin(fmax(x[i], low), high);
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

// Attribution variants of the ReLU backward pass. Guided backpropagation: dx = relu(dy) · [x > 0].
__kernel void relu_guided_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = x[i] > 0.0f ? fmax(dy[i], 0.0f) : 0.0f;
}

// Deconvnet: dx = relu(dy), whatever x.
__kernel void relu_deconvnet_backward(__global const float* x, __global const float* dy, __global float* dx, int COUNT) {
    const int i = get_global_id(0);
    if (i < COUNT) dx[i] = fmax(dy[i], 0.0f);
}
