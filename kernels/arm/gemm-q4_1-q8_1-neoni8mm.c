/* ea_gemm_q4_1_q8_1__neoni8mm: ARMv8.6 i8mm (smmla); the body is gemm-q4_1-q8_1-i8mm.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_MATMUL_INT8)
#error "needs i8mm"
#endif
#define EA_FN ea_gemm_q4_1_q8_1__neoni8mm
#include "gemm-q4_1-q8_1-i8mm.h"
