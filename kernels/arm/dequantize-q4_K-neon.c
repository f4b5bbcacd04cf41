/* ea_dequantize_q4_K__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is dequantize-q4_K.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_dequantize_q4_K__neon
#include "dequantize-q4_K.h"
