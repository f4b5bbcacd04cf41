/* ea_quantize_q5_1__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is quantize-q5_1.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_quantize_q5_1__armv7neon
#include "quantize-q5_1.h"
