// Shared by every ConvLens kernel file (inlined by KernelSourceSet at load time).
// Conventions: float32, NCHW, row-major; every work-item guards its index because launchers round the global
// size up to a multiple of the work-group size; structural parameters arrive as -D defines.

#ifndef CONVLENS_COMMON_H
#define CONVLENS_COMMON_H

// Index of element (n, c, h, w) in an N×C×H×W tensor.
#define NCHW_INDEX(n, c, h, w, C, H, W) ((((n) * (C) + (c)) * (H) + (h)) * (W) + (w))

#endif
