/* Builds the variant table from variants.inc. The build defines EA_HAVE_<ISA> for every ISA
 * whose files it compiled; lines of the others expand to nothing. */
#include "../blocks.h"

#define EA_KEEP(x) x
#define EA_DROP(x)
#define EA_IF_ref EA_KEEP
#ifdef EA_HAVE_SSE4
#define EA_IF_sse4 EA_KEEP
#else
#define EA_IF_sse4 EA_DROP
#endif
#ifdef EA_HAVE_AVX2
#define EA_IF_avx2 EA_KEEP
#else
#define EA_IF_avx2 EA_DROP
#endif
#ifdef EA_HAVE_AVXVNNI
#define EA_IF_avxvnni EA_KEEP
#else
#define EA_IF_avxvnni EA_DROP
#endif
#ifdef EA_HAVE_AVX512VNNI
#define EA_IF_avx512vnni EA_KEEP
#else
#define EA_IF_avx512vnni EA_DROP
#endif
#ifdef EA_HAVE_NEON
#define EA_IF_neon EA_KEEP
#else
#define EA_IF_neon EA_DROP
#endif
#ifdef EA_HAVE_NEONDOT
#define EA_IF_neondot EA_KEEP
#else
#define EA_IF_neondot EA_DROP
#endif
#ifdef EA_HAVE_NEONI8MM
#define EA_IF_neoni8mm EA_KEEP
#else
#define EA_IF_neoni8mm EA_DROP
#endif
#ifdef EA_HAVE_ARMV7NEON
#define EA_IF_armv7neon EA_KEEP
#else
#define EA_IF_armv7neon EA_DROP
#endif

/* lower-case names used in variants.inc -> enum values */
#define EA_T_f32 EA_F32
#define EA_T_f16 EA_F16
#define EA_T_bf16 EA_BF16
#define EA_T_q4_0 EA_Q4_0
#define EA_T_q4_1 EA_Q4_1
#define EA_T_q5_0 EA_Q5_0
#define EA_T_q5_1 EA_Q5_1
#define EA_T_q8_0 EA_Q8_0
#define EA_T_q8_1 EA_Q8_1
#define EA_T_q2_K EA_Q2_K
#define EA_T_q3_K EA_Q3_K
#define EA_T_q4_K EA_Q4_K
#define EA_T_q5_K EA_Q5_K
#define EA_T_q6_K EA_Q6_K
#define EA_T_q8_K EA_Q8_K
#define EA_I_ref EA_ISA_REF
#define EA_I_sse4 EA_ISA_SSE4
#define EA_I_avx2 EA_ISA_AVX2
#define EA_I_avxvnni EA_ISA_AVXVNNI
#define EA_I_avx512vnni EA_ISA_AVX512VNNI
#define EA_I_neon EA_ISA_NEON
#define EA_I_neondot EA_ISA_NEONDOT
#define EA_I_neoni8mm EA_ISA_NEONI8MM
#define EA_I_armv7neon EA_ISA_ARMV7NEON

/* ---- declarations ---- */
#define EA_QUANT_D(isa, t) void ea_quantize_##t##__##isa(const float *x, void *y, int64_t k);
#define EA_DEQUANT_D(isa, t) void ea_dequantize_##t##__##isa(const void *x, float *y, int64_t k);
#define EA_DOT_D(isa, w, a) void ea_dot_##w##_##a##__##isa(int64_t k, float *s, const void *w_, const void *a_);
#define EA_GEMM_D(isa, w, a) void ea_gemm_##w##_##a##__##isa(int64_t k, int64_t m, int64_t n, float *s, \
        int64_t lds, const void *w_, size_t ws, const void *a_, size_t as);
#define EA_QUANT(isa, t) EA_IF_##isa(EA_QUANT_D(isa, t))
#define EA_DEQUANT(isa, t) EA_IF_##isa(EA_DEQUANT_D(isa, t))
#define EA_DOT(isa, w, a) EA_IF_##isa(EA_DOT_D(isa, w, a))
#define EA_GEMM(isa, w, a) EA_IF_##isa(EA_GEMM_D(isa, w, a))
#include "../variants.inc"
#undef EA_QUANT
#undef EA_DEQUANT
#undef EA_DOT
#undef EA_GEMM

/* ---- table ---- */
#define EA_FN(f) ((void (*)(void))(f))
#define EA_QUANT_E(isa, t) {EA_OP_QUANTIZE, EA_T_##t, EA_F32, EA_I_##isa, "ea_quantize_" #t "__" #isa, EA_FN(ea_quantize_##t##__##isa)},
#define EA_DEQUANT_E(isa, t) {EA_OP_DEQUANTIZE, EA_T_##t, EA_F32, EA_I_##isa, "ea_dequantize_" #t "__" #isa, EA_FN(ea_dequantize_##t##__##isa)},
#define EA_DOT_E(isa, w, a) {EA_OP_DOT, EA_T_##w, EA_T_##a, EA_I_##isa, "ea_dot_" #w "_" #a "__" #isa, EA_FN(ea_dot_##w##_##a##__##isa)},
#define EA_GEMM_E(isa, w, a) {EA_OP_GEMM, EA_T_##w, EA_T_##a, EA_I_##isa, "ea_gemm_" #w "_" #a "__" #isa, EA_FN(ea_gemm_##w##_##a##__##isa)},
#define EA_QUANT(isa, t) EA_IF_##isa(EA_QUANT_E(isa, t))
#define EA_DEQUANT(isa, t) EA_IF_##isa(EA_DEQUANT_E(isa, t))
#define EA_DOT(isa, w, a) EA_IF_##isa(EA_DOT_E(isa, w, a))
#define EA_GEMM(isa, w, a) EA_IF_##isa(EA_GEMM_E(isa, w, a))
static const ea_variant k_variants[] = {
#include "../variants.inc"
};

size_t ea_variant_count(void) { return sizeof(k_variants) / sizeof(k_variants[0]); }

const ea_variant *ea_variant_at(size_t i) {
    return i < ea_variant_count() ? &k_variants[i] : NULL;
}
