/* ea_dequantize_q6_K__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is dequantize-q6_K.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_dequantize_q6_K__armv7neon
#include "dequantize-q6_K.h"
