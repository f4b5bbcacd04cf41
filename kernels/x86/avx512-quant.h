/* AVX-512 helpers for the activation quantizers: one 32-element block to int8 with the
 * reference's exact arithmetic (d = amax / 127, id = 1 / d, q = round-half-away(x * id)),
 * so the SIMD quantizers are byte-identical to the __ref ones. */
#ifndef EDGEAI_X86_AVX512_QUANT_H
#define EDGEAI_X86_AVX512_QUANT_H

#include <immintrin.h>
#include "../blocks.h"

/* roundf() semantics (half away from zero), exact: t = trunc(v); t += sign(v) if |v - t| >= 0.5.
 * v - trunc(v) is exact in float, so there is no double rounding. */
static inline __m512i ea512_round_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 fr = _mm512_abs_ps(_mm512_sub_ps(v, t));
    const __mmask16 up = _mm512_cmp_ps_mask(fr, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(_mm512_set1_ps(1.0f)),
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u))));
    return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, one));
}

/* x[32] -> qs[32]; returns d (float, before fp16 rounding) and the int sum of qs in *isum. */
static inline float ea512_q8_block(const float *x, int8_t *qs, int32_t *isum) {
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m512 vid = _mm512_set1_ps(id);
    const __m512i q0 = ea512_round_away(_mm512_mul_ps(x0, vid));
    const __m512i q1 = ea512_round_away(_mm512_mul_ps(x1, vid));
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128((__m128i *)(qs + 16), _mm512_cvtsepi32_epi8(q1));
    if (isum) *isum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    return d;
}

/* float -> fp16 bits, round to nearest even (F16C; same as ea_f32_to_fp16). */
static inline ea_fp16 ea512_to_fp16(float f) {
    return (ea_fp16)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}

#endif
