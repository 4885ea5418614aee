// Device ceilings for `convlens bench` and the "of peak" column of --profile: FMA throughput and copy bandwidth.
// Measurement kernels, not ops: they have no reference twin, only a check that they ran (the host reads back).

#ifndef VW
#define VW 4
#endif
#define CONCAT(a, b) CONCAT_(a, b)
#define CONCAT_(a, b) a##b
#define VT CONCAT(float, VW)
// Independent FMA chains per work-item: enough to hide the FMA latency on every pipe.
#define CHAINS 12
#define ITERATIONS 256

// Global size (any): each work-item does CHAINS·ITERATIONS FMAs on VW-wide vectors, 2·VW·CHAINS·ITERATIONS flops.
__kernel void peak_fma(__global float* out, float a, float b) {
    const int id = get_global_id(0);
    VT x[CHAINS];
    for (int c = 0; c < CHAINS; ++c) x[c] = (VT)((float)(id + c));
    for (int i = 0; i < ITERATIONS; ++i) {
        _Pragma("unroll") for (int c = 0; c < CHAINS; ++c) x[c] = fma(x[c], (VT)(a), (VT)(b));
    }
    VT total = x[0];
    for (int c = 1; c < CHAINS; ++c) total += x[c];
    float lanes[VW];
    CONCAT(vstore, VW)(total, 0, lanes);
    float sum = 0.0f;
    for (int l = 0; l < VW; ++l) sum += lanes[l];
    // Stored so the compiler cannot drop the arithmetic.
    out[id] = sum;
}

// Global size (count / VW): out = in, VW floats per work-item; 2·4·count bytes move.
__kernel void peak_copy(__global const float* in, __global float* out, int vectors) {
    const int i = get_global_id(0);
    if (i >= vectors) return;
    CONCAT(vstore, VW)(CONCAT(vload, VW)(i, in), i, out);
}
