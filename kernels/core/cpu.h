/* CPU feature bits detected once at start-up (ea_cpu_features()). Internal to kernels/. */
#ifndef EDGEAI_CPU_H
#define EDGEAI_CPU_H

#define EA_CPU_SSE2       (1ull << 0)
#define EA_CPU_SSSE3      (1ull << 1)
#define EA_CPU_SSE41      (1ull << 2)
#define EA_CPU_AVX        (1ull << 3)   /* CPU bit and OS saves YMM state */
#define EA_CPU_AVX2       (1ull << 4)
#define EA_CPU_FMA        (1ull << 5)
#define EA_CPU_F16C       (1ull << 6)
#define EA_CPU_AVX512F    (1ull << 7)   /* CPU bit and OS saves ZMM/opmask state */
#define EA_CPU_AVX512BW   (1ull << 8)
#define EA_CPU_AVX512VL   (1ull << 9)
#define EA_CPU_AVX512VNNI (1ull << 10)
#define EA_CPU_AVXVNNI    (1ull << 11)
#define EA_CPU_ASIMD      (1ull << 16)  /* AArch64 Advanced SIMD, or ARMv7 NEON */
#define EA_CPU_ASIMDDP    (1ull << 17)  /* dotprod */
#define EA_CPU_ASIMDHP    (1ull << 18)  /* fp16 arithmetic */
#define EA_CPU_I8MM       (1ull << 19)
#define EA_CPU_VFPV4      (1ull << 20)  /* ARMv7: fused multiply-add, half conversions */

/* Names for the bits above, in bit order; used by ea_cpu_feature_name(). */
const char *ea_cpu_feature_name(int bit);

#endif
