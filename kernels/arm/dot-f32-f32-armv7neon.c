/* ea_dot_f32_f32__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is dot-f32-f32.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_dot_f32_f32__armv7neon
#include "dot-f32-f32.h"
