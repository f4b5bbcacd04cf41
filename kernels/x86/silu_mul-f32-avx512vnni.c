/* ea_silu_mul (model/act.h) sixteen lanes at a time: vexp.h's e^x and the silu formula with the
 * same operations in the same order, each rounded on its own (no FMA), so every lane has the bits
 * of the portable four-lane code. That code runs SSE2 on x86-64: ~2% of a TinyLlama-shape prefill
 * on one thread (64 x 5632 gate values per layer). A row's last n % 16 lanes go through masked
 * loads and stores. */
#if !defined(__AVX512F__) || !defined(__AVX512DQ__)
#error "needs avx512f+dq"
#endif
#include <immintrin.h>
#include <stdint.h>

#include "../model/act.h"
#include "../model/vexp.h" /* the constants */

static inline __m512 exp16(__m512 x) {
    const __m512 magic = _mm512_set1_ps(EA_VEXP_MAGIC);
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), magic);
    const __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f)));
    r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(-2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    const __m512 er = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r), _mm512_set1_ps(1.0f));
    /* 2^n from t's bits: ((bits(t) - MAGIC_BITS) + 127) << 23 */
    const __m512i e = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(EA_VEXP_MAGIC_BITS)),
                         _mm512_set1_epi32(127)),
        23);
    /* ordered compares: false for NaN, so a NaN goes through as in vexp.h */
    const __mmask16 low = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EA_VEXP_LO), _CMP_LT_OQ);
    const __mmask16 high = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EA_VEXP_HI), _CMP_GT_OQ);
    const __m512 y = _mm512_maskz_mov_ps((__mmask16)~(low | high), _mm512_mul_ps(er, _mm512_castsi512_ps(e)));
    return _mm512_mask_mov_ps(y, high, _mm512_set1_ps(__builtin_inff()));
}

/* g / (1 + e^-g) * u, as silu_mul4 in act.c */
static inline __m512 silu_mul16(__m512 g, __m512 u) {
    const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(g), _mm512_set1_epi32((int)0x80000000u)));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(neg))), u);
}

void ea_silu_mul__avx512vnni(float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(g + i, silu_mul16(_mm512_loadu_ps(g + i), _mm512_loadu_ps(u + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(g + i, m, silu_mul16(_mm512_maskz_loadu_ps(m, g + i), _mm512_maskz_loadu_ps(m, u + i)));
    }
}
