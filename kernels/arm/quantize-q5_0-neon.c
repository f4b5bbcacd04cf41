/* ea_quantize_q5_0__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is quantize-q5_0.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_quantize_q5_0__neon
#include "quantize-q5_0.h"
