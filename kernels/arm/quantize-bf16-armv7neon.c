/* ea_quantize_bf16__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is quantize-bf16.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_quantize_bf16__armv7neon
#include "quantize-bf16.h"
