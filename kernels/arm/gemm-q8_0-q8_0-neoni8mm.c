/* ea_gemm_q8_0_q8_0__neoni8mm: ARMv8.6 i8mm (smmla); the body is gemm-q8_0-q8_0-i8mm.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_MATMUL_INT8)
#error "needs i8mm"
#endif
#define EA_FN ea_gemm_q8_0_q8_0__neoni8mm
#include "gemm-q8_0-q8_0-i8mm.h"
