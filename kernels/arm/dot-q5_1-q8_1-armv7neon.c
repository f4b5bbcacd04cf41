/* ea_dot_q5_1_q8_1__armv7neon: 32-bit ARMv7 NEON + VFPv4; the body is dot-q5_1-q8_1.h. */
#if defined(__aarch64__) || !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "needs 32-bit ARMv7 NEON with VFPv4"
#endif
#define EA_FN ea_dot_q5_1_q8_1__armv7neon
#include "dot-q5_1-q8_1.h"
