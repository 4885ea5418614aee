#include "common.h"

// Resizing NCHW planes. MODE 0: bilinear, half-pixel centres, the source clamped at 0 (PyTorch's align_corners=False
// arithmetic, in float and in its order); MODE 1: bilinear, corner centres mapped onto each other; MODE 2: nearest,
// source ⌊d · in / out⌋.

// The source indices of output index d along one axis and the second's weight (nearest: both the same, weight 0).
inline void resize_taps(int d, int in_size, int out_size, int* first, int* second, float* weight) {
#if MODE == 2
    *first = min((int)(((long)d * in_size) / out_size), in_size - 1);
    *second = *first;
    *weight = 0.0f;
#else
#if MODE == 1
    const float source = out_size > 1 ? (float)d * ((float)(in_size - 1) / (float)(out_size - 1)) : 0.0f;
#else
    const float source = fmax(((float)d + 0.5f) * ((float)in_size / (float)out_size) - 0.5f, 0.0f);
#endif
    *first = min((int)source, in_size - 1);
    *second = min(*first + 1, in_size - 1);
    *weight = source - (float)*first;
#endif
}

// Global size (OW, OH, planes).
__kernel void resize_forward(__global const float* x, __global float* y, int planes, int H, int W, int OH, int OW) {
    const int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= OW || oy >= OH || plane >= planes) return;
    int top, bottom, left, right;
    float dy, dx;
    resize_taps(oy, H, OH, &top, &bottom, &dy);
    resize_taps(ox, W, OW, &left, &right, &dx);
    __global const float* in = x + (size_t)plane * H * W;
    const float upper = (1.0f - dx) * in[top * W + left] + dx * in[top * W + right];
    const float lower = (1.0f - dx) * in[bottom * W + left] + dx * in[bottom * W + right];
    y[((size_t)plane * OH + oy) * OW + ox] = (1.0f - dy) * upper + dy * lower;
}

// The weight with which output index d reads input index i along one axis (0 when it does not).
inline float resize_weight(int d, int i, int in_size, int out_size) {
    int first, second;
    float weight;
    resize_taps(d, in_size, out_size, &first, &second, &weight);
    return (first == i ? 1.0f - weight : 0.0f) + (second == i ? weight : 0.0f);
}

// The output indices that may read input index i: around its image under the mapping, widened by the output pixels
// per input pixel and two more on each side, and to the edge for the edge pixels (clamped sources land there).
inline void resize_window(int i, int in_size, int out_size, int* from, int* to) {
    const float ratio = (float)out_size / (float)in_size;
    const float centre = ((float)i + 0.5f) * ratio - 0.5f;
    *from = i == 0 ? 0 : max((int)floor(centre - ratio) - 2, 0);
    *to = i == in_size - 1 ? out_size - 1 : min((int)ceil(centre + ratio) + 2, out_size - 1);
}

// Global size (W, H, planes): each input pixel gathers Σ weight_y · weight_x · dy over the output pixels that read it,
// so dx is written once per element without atomics.
__kernel void resize_backward(__global const float* dy, __global float* dx, int planes, int H, int W, int OH, int OW) {
    const int ix = get_global_id(0), iy = get_global_id(1), plane = get_global_id(2);
    if (ix >= W || iy >= H || plane >= planes) return;
    int rowFrom, rowTo, columnFrom, columnTo;
    resize_window(iy, H, OH, &rowFrom, &rowTo);
    resize_window(ix, W, OW, &columnFrom, &columnTo);
    __global const float* g = dy + (size_t)plane * OH * OW;
    float sum = 0.0f;
    for (int oy = rowFrom; oy <= rowTo; ++oy) {
        const float wy = resize_weight(oy, iy, H, OH);
        if (wy == 0.0f) continue;
        float row = 0.0f;
        for (int ox = columnFrom; ox <= columnTo; ++ox) row += resize_weight(ox, ix, W, OW) * g[oy * OW + ox];
        sum += wy * row;
    }
    dx[((size_t)plane * H + iy) * W + ix] = sum;
}
