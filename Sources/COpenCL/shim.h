// OpenCL 1.2 is the contract: PoCL, NVIDIA, AMD and Intel all provide it, and we need nothing newer.
// Fixing the target version keeps the headers from warning and from exposing calls a driver may lack.
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
