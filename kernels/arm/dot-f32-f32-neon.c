/* ea_dot_f32_f32__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is dot-f32-f32.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_dot_f32_f32__neon
#include "dot-f32-f32.h"
