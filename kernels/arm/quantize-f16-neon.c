/* ea_quantize_f16__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is quantize-f16.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_quantize_f16__neon
#include "quantize-f16.h"
