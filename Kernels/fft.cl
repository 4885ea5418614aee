#include "common.h"

// Inverse real 2-D DFT (numpy.fft.irfft2, norm "backward") as two separable DFT stages, and its adjoint.
// Spectra are PLANES×H×2F with F = W/2 + 1 complex columns (real, imaginary interleaved); images PLANES×H×W.
// Angles are reduced modulo the period in integers before cospi/sinpi, so large sizes keep full precision.
//   stage 1 (columns): T[h, k] = 1/H Σ_j S[j, k] e^{+2πi·j·h/H}
//   stage 2 (rows):    x[h, w] = 1/W Σ_k c_k Re(T[h, k] e^{+2πi·k·w/W}),  c_k = 1 for k = 0 and k = W/2, else 2

// Weight of complex column k in a real inverse transform of width W (Hermitian symmetry).
inline float hermitian_weight(int k, int W) {
    return (k == 0 || 2 * k == W) ? 1.0f : 2.0f;
}

// Global size (F, H, PLANES).
__kernel void irfft2_columns_forward(__global const float* S, __global float* T, int PLANES, int H, int F) {
    const int k = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
    if (k >= F || h >= H || plane >= PLANES) return;
    __global const float* spectrum = S + (size_t)plane * H * 2 * F;
    float re = 0.0f, im = 0.0f;
    for (int j = 0; j < H; ++j) {
        const float angle = 2.0f * (float)((j * h) % H) / (float)H;
        const float c = cospi(angle), s = sinpi(angle);
        const float a = spectrum[(j * F + k) * 2], b = spectrum[(j * F + k) * 2 + 1];
        re += a * c - b * s;
        im += a * s + b * c;
    }
    __global float* out = T + ((size_t)plane * H + h) * 2 * F + 2 * k;
    out[0] = re / (float)H;
    out[1] = im / (float)H;
}

// Global size (W, H, PLANES).
__kernel void irfft2_rows_forward(__global const float* T, __global float* x, int PLANES, int H, int W, int F) {
    const int w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
    if (w >= W || h >= H || plane >= PLANES) return;
    __global const float* row = T + ((size_t)plane * H + h) * 2 * F;
    float sum = 0.0f;
    for (int k = 0; k < F; ++k) {
        const float angle = 2.0f * (float)((k * w) % W) / (float)W;
        sum += hermitian_weight(k, W) * (row[2 * k] * cospi(angle) - row[2 * k + 1] * sinpi(angle));
    }
    x[((size_t)plane * H + h) * W + w] = sum / (float)W;
}

// Global size (F, H, PLANES): the adjoint of stage 2, ∂L/∂T from ∂L/∂x.
__kernel void irfft2_rows_backward(__global const float* dx, __global float* dT, int PLANES, int H, int W, int F) {
    const int k = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
    if (k >= F || h >= H || plane >= PLANES) return;
    __global const float* gradient = dx + ((size_t)plane * H + h) * W;
    float re = 0.0f, im = 0.0f;
    for (int w = 0; w < W; ++w) {
        const float angle = 2.0f * (float)((k * w) % W) / (float)W;
        re += gradient[w] * cospi(angle);
        im -= gradient[w] * sinpi(angle);
    }
    const float scale = hermitian_weight(k, W) / (float)W;
    __global float* out = dT + ((size_t)plane * H + h) * 2 * F + 2 * k;
    out[0] = re * scale;
    out[1] = im * scale;
}

// Global size (F, H, PLANES) over spectrum rows j (= the H index): the adjoint of stage 1, ∂L/∂S from ∂L/∂T.
__kernel void irfft2_columns_backward(__global const float* dT, __global float* dS, int PLANES, int H, int F) {
    const int k = get_global_id(0), j = get_global_id(1), plane = get_global_id(2);
    if (k >= F || j >= H || plane >= PLANES) return;
    __global const float* gradient = dT + (size_t)plane * H * 2 * F;
    float re = 0.0f, im = 0.0f;
    for (int h = 0; h < H; ++h) {
        const float angle = 2.0f * (float)((j * h) % H) / (float)H;
        const float c = cospi(angle), s = sinpi(angle);
        const float a = gradient[(h * F + k) * 2], b = gradient[(h * F + k) * 2 + 1];
        re += a * c + b * s;
        im += b * c - a * s;
    }
    __global float* out = dS + (((size_t)plane * H + j) * F + k) * 2;
    out[0] = re / (float)H;
    out[1] = im / (float)H;
}
