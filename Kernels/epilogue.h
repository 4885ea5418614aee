// The epilogue a convolution or product applies as it stores a result (ConvEpilogue):
//   y = activation(value + residual)
// where value already holds the sum and the bias. EPILOGUE_RESIDUAL 1 adds the residual tensor, laid out as the
// output; EPILOGUE picks the activation: 0 none, 1 ReLU, 2 leaky ReLU (slope a), 3 clip to [a, b], 4 hard swish,
// 5 SiLU, each as activation.cl computes it (NaN kept), so a fused ReLU or clip gives the unfused result bit for
// bit. The kernel arguments `residual`, `epilogueA` and `epilogueB` carry the tensor and the parameters.

#ifndef CONVLENS_EPILOGUE_H
#define CONVLENS_EPILOGUE_H

#ifndef EPILOGUE
#define EPILOGUE 0
#endif
#ifndef EPILOGUE_RESIDUAL
#define EPILOGUE_RESIDUAL 0
#endif

// The activation of `v` (a float or a vector of type T); select(a, b, c) takes b where c holds.
#if EPILOGUE == 1
#define EPILOGUE_ACTIVATE(v, T, a, b) select(v, (T)(0.0f), v < (T)(0.0f))
#elif EPILOGUE == 2
#define EPILOGUE_ACTIVATE(v, T, a, b) select(v, (T)(a) * v, v <= (T)(0.0f))
#elif EPILOGUE == 3
#define EPILOGUE_ACTIVATE(v, T, a, b) select(select(v, (T)(b), v > (T)(b)), (T)(a), v < (T)(a))
#elif EPILOGUE == 4
#define EPILOGUE_ACTIVATE(v, T, a, b) (v * fmin(fmax(v + 3.0f, 0.0f), 6.0f) / 6.0f)
#elif EPILOGUE == 5
#define EPILOGUE_ACTIVATE(v, T, a, b) (v / (1.0f + exp(-v)))
#else
#define EPILOGUE_ACTIVATE(v, T, a, b) (v)
#endif

// The epilogue of one float stored at `residual`'s twin position.
inline float epilogue_scalar(float value, __global const float* residual, float a, float b) {
#if EPILOGUE_RESIDUAL
    value += *residual;
#endif
    return EPILOGUE_ACTIVATE(value, float, a, b);
}

// The epilogue of 8 floats stored from `residual`'s twin position.
inline float8 epilogue_float8(float8 value, __global const float* residual, float a, float b) {
#if EPILOGUE_RESIDUAL
    value += vload8(0, residual);
#endif
    return EPILOGUE_ACTIVATE(value, float8, a, b);
}

#ifdef VT
// The epilogue of VW floats (register_tile.h's vector type) stored from `residual`'s twin position.
inline VT epilogue_vector(VT value, __global const float* residual, float a, float b) {
#if EPILOGUE_RESIDUAL
    value += VLOAD(residual);
#endif
    return EPILOGUE_ACTIVATE(value, VT, a, b);
}
#endif

#endif
