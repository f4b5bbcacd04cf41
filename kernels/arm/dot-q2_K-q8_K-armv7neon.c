/* ea_dot_q2_K_q8_K__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is dot-q2_K-q8_K.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_dot_q2_K_q8_K__armv7neon
#include "dot-q2_K-q8_K.h"
