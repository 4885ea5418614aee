#include "common.h"

// Global size N: point i's K nearest others by squared distance, kept sorted in its own output rows (nearest first,
// ties to the lower index, as j rises). No N² buffer exists, so N is bounded by time, not memory.
__kernel void nearest_neighbors(__global const float* points, __global float* distances, __global int* indices,
                                int N, int D, int K) {
    const int i = get_global_id(0);
    if (i >= N) return;
    __global const float* p = points + (size_t)i * D;
    __global float* best = distances + (size_t)i * K;
    __global int* which = indices + (size_t)i * K;
    int filled = 0;
    for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        __global const float* q = points + (size_t)j * D;
        // 16 features at a time (contiguous in both rows), then the rest one by one.
        float16 lanes = 0.0f;
        int c = 0;
        for (; c + 16 <= D; c += 16) {
            const float16 t = vload16(0, p + c) - vload16(0, q + c);
            lanes = fma(t, t, lanes);
        }
        const float8 half8 = lanes.lo + lanes.hi;
        const float4 half4 = half8.lo + half8.hi;
        float d = (half4.x + half4.y) + (half4.z + half4.w);
        for (; c < D; ++c) {
            const float t = p[c] - q[c];
            d = fma(t, t, d);
        }
        if (filled == K && !(d < best[K - 1])) continue;
        int slot = filled < K ? filled++ : K - 1;
        for (; slot > 0 && best[slot - 1] > d; --slot) {
            best[slot] = best[slot - 1];
            which[slot] = which[slot - 1];
        }
        best[slot] = d;
        which[slot] = j;
    }
}

// Global size N: row i of squared distances to conditional probabilities p_j|i ∝ exp(−β d_j), β by scikit-learn's
// binary search (from 1: doubled or halved until bracketed, then bisected; 100 steps, 1e-5 nats). Distances count
// from the row's smallest: p and the entropy are unchanged, and exp cannot underflow to an all-zero row.
__kernel void perplexity_affinities(__global const float* distances, __global float* output, int N, int K,
                                    float logPerplexity) {
    const int i = get_global_id(0);
    if (i >= N) return;
    __global const float* d = distances + (size_t)i * K;
    __global float* p = output + (size_t)i * K;
    float smallest = d[0];
    for (int j = 1; j < K; ++j) smallest = fmin(smallest, d[j]);
    float beta = 1.0f, low = 0.0f, high = 0.0f, total = 1.0f, evaluated = 1.0f;
    bool hasLow = false, hasHigh = false;
    for (int step = 0; step < 100; ++step) {
        float weighted = 0.0f;
        total = 0.0f;
        for (int j = 0; j < K; ++j) {
            const float shifted = d[j] - smallest, w = exp(-shifted * beta);
            total += w;
            weighted += shifted * w;
        }
        evaluated = beta;
        const float difference = log(total) + beta * weighted / total - logPerplexity;
        if (fabs(difference) <= 1e-5f) break;
        if (difference > 0.0f) {
            low = beta;
            hasLow = true;
            beta = hasHigh ? 0.5f * (beta + high) : 2.0f * beta;
        } else {
            high = beta;
            hasHigh = true;
            beta = hasLow ? 0.5f * (beta + low) : 0.5f * beta;
        }
    }
    for (int j = 0; j < K; ++j) p[j] = exp(-(d[j] - smallest) * evaluated) / total;
}

// Global size N, on the planar 2×N map (x row, then y row): point i's attraction Σ_j p_ij q̃_ij (y_i − y_j) over its
// affinities (compressed rows) and repulsion Σ_j q̃_ij² (y_i − y_j) over every point, q̃ = 1 / (1 + |y_i − y_j|²),
// into the rows of the 4×N forces; the j = i term adds nothing to the forces and exactly 1 to Σ q̃, taken off after
// the loop so it stays branch-free. partials: Σ_{j≠i} q̃_ij (row 0) and, when withDivergence, Σ_j p_ij log(p_ij / q̃_ij)
// (row 1; else 0), whose totals give Z and KL = Σ + log Z. The logarithms cost as much as the O(N²) loop, so the
// descent asks for them only when it reports the divergence.
// The O(N²) loop takes 16 points at a time in float16 lanes, two contiguous loads each: compilers do not vectorize
// a float reduction across j by themselves without reassociating it, and this makes the order explicit.
__kernel void tsne_forces(__global const float* map, __global const int* rowStarts, __global const int* columns,
                          __global const float* affinities, __global float* forces, __global float* partials, int N,
                          int withDivergence, int exactRepulsion) {
    const int i = get_global_id(0);
    if (i >= N) return;
    __global const float* xs = map;
    __global const float* ys = map + N;
    const float xi = xs[i], yi = ys[i];
    float16 repulsionX = 0.0f, repulsionY = 0.0f, normalizer = 0.0f;
    const int end = exactRepulsion ? N : 0;  // else tsne_tree_repulsion fills the repulsion
    int j = 0;
    for (; j + 16 <= end; j += 16) {
        const float16 dx = xi - vload16(0, xs + j), dy = yi - vload16(0, ys + j);
        const float16 q = native_recip(1.0f + dx * dx + dy * dy);
        normalizer += q;
        repulsionX += q * q * dx;
        repulsionY += q * q * dy;
    }
    const float8 sumX = repulsionX.lo + repulsionX.hi, sumY = repulsionY.lo + repulsionY.hi, sumZ = normalizer.lo + normalizer.hi;
    float rx = sumX.s0 + sumX.s1 + sumX.s2 + sumX.s3 + sumX.s4 + sumX.s5 + sumX.s6 + sumX.s7;
    float ry = sumY.s0 + sumY.s1 + sumY.s2 + sumY.s3 + sumY.s4 + sumY.s5 + sumY.s6 + sumY.s7;
    float z = sumZ.s0 + sumZ.s1 + sumZ.s2 + sumZ.s3 + sumZ.s4 + sumZ.s5 + sumZ.s6 + sumZ.s7;
    for (; j < end; ++j) {
        const float dx = xi - xs[j], dy = yi - ys[j];
        const float q = 1.0f / (1.0f + dx * dx + dy * dy);
        z += q;
        rx += q * q * dx;
        ry += q * q * dy;
    }
    float attractionX = 0.0f, attractionY = 0.0f, divergence = 0.0f;
    for (int entry = rowStarts[i]; entry < rowStarts[i + 1]; ++entry) {
        const int k = columns[entry];
        const float p = affinities[entry], dx = xi - xs[k], dy = yi - ys[k];
        const float dq = 1.0f + dx * dx + dy * dy, pq = p / dq;
        attractionX += pq * dx;
        attractionY += pq * dy;
        if (withDivergence && p > 0.0f) divergence += p * log(p * dq);
    }
    forces[i] = attractionX;
    forces[N + i] = attractionY;
    forces[2 * N + i] = rx;
    forces[3 * N + i] = ry;
    partials[i] = exactRepulsion ? z - 1.0f : 0.0f;
    partials[N + i] = divergence;
}

// Global size N: Barnes-Hut repulsion on the planar map. Point i walks the quadtree (nodes: planar centre-of-mass x,
// y, count, side; links: first child, next — depth-first, so `next` skips a subtree): a leaf, or a cell whose side
// is below θ times its distance (side² < θ²·d², in these float operations, which the reference repeats), counts as
// `count` bodies at its centre of mass; otherwise the walk descends. Its own leaf adds exactly 1 to Σ q̃, taken off.
__kernel void tsne_tree_repulsion(__global const float* map, __global const float* nodes, __global const int* links,
                                  __global float* forces, __global float* partials, int N, int M, float theta2) {
    const int i = get_global_id(0);
    if (i >= N) return;
    const float xi = map[i], yi = map[N + i];
    float repulsionX = 0.0f, repulsionY = 0.0f, normalizer = 0.0f;
    int node = 0;
    while (node < M) {
        const float dx = xi - nodes[node], dy = yi - nodes[M + node];
        const float d2 = fma(dx, dx, dy * dy), side = nodes[3 * M + node];
        if (links[node] < 0 || side * side < theta2 * d2) {
            const float q = 1.0f / (1.0f + d2), count = nodes[2 * M + node];
            normalizer += count * q;
            repulsionX += count * q * q * dx;
            repulsionY += count * q * q * dy;
            node = links[M + node];
        } else {
            node = links[node];
        }
    }
    forces[2 * N + i] = repulsionX;
    forces[3 * N + i] = repulsionY;
    partials[i] = normalizer - 1.0f;
}

// Global size 2N, one coordinate of the 2×N map each (e = axis·N + i, as in the 4×N forces): gradient
// 4(α·attraction − repulsion / Z), gains +0.2 where it opposes the last update and ×0.8 elsewhere (at least
// minGain), update = momentum·update − rate·gain·gradient, map += update.
__kernel void tsne_update(__global float* map, __global float* velocity, __global float* gains,
                          __global const float* forces, __global const float* sums, int N, float exaggeration,
                          float momentum, float learningRate, float minGain) {
    const int e = get_global_id(0);
    if (e >= 2 * N) return;
    const float gradient = 4.0f * (exaggeration * forces[e] - forces[2 * N + e] / sums[0]);
    const float v = velocity[e];
    const float gain = fmax(v * gradient < 0.0f ? gains[e] + 0.2f : gains[e] * 0.8f, minGain);
    const float update = momentum * v - learningRate * gain * gradient;
    gains[e] = gain;
    velocity[e] = update;
    map[e] += update;
}
