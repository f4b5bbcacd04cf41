/* SSSE3 + SSE4.1 building blocks (2008-era PCs: no AVX, no F16C, no FMA) for the 32-element block
 * formats, and the sse4 tile kernel. A block is two 16-byte halves; products go through
 * pmaddubsw (u8 x s8 -> s16 pairs, no saturation for these ranges, see avx2-blocks.h) and
 * pmaddwd, scales through the portable fp16 conversion, accumulation in float (mul + add). */
#ifndef EDGEAI_X86_SSE4_BLOCKS_H
#define EDGEAI_X86_SSE4_BLOCKS_H

#include <smmintrin.h>
#include "../blocks.h"

enum { EA128_Q4_0, EA128_Q8_0, EA128_Q4_1, EA128_Q5_0, EA128_Q5_1 };

/* q5 high bits of elements 16*half .. 16*half+15: bit j of qh -> 0x10 in byte j */
static inline __m128i ea128_qh_bits(uint32_t h, int half) {
    const __m128i spread = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)h),
                                            half ? _mm_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL)
                                                 : _mm_set_epi64x(0x0101010101010101LL, 0));
    const __m128i bit = _mm_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(spread, bit), bit), _mm_set1_epi8(0x10));
}

static inline __m128i ea128_dot_us(__m128i u, __m128i s) {
    return _mm_madd_epi16(_mm_maddubs_epi16(u, s), _mm_set1_epi16(1));
}

static inline __m128i ea128_dot_ss(__m128i w, __m128i a) {
    return ea128_dot_us(_mm_sign_epi8(w, w), _mm_sign_epi8(a, w));
}

/* sum((w - off) a) for unsigned quants w: q4_0 (off 8), q5_0 (off 16) */
static inline __m128i ea128_dot_off(__m128i w, __m128i a, char off) {
    const __m128i p = _mm_sub_epi16(_mm_maddubs_epi16(w, a), _mm_maddubs_epi16(_mm_set1_epi8(off), a));
    return _mm_madd_epi16(p, _mm_set1_epi16(1));
}

static inline float ea128_hsum(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* roundf() semantics, exact (see avx2-blocks.h) */
static inline __m128i ea128_round_away(__m128 v) {
    const __m128 t = _mm_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m128 sgn = _mm_and_ps(v, _mm_set1_ps(-0.0f));
    const __m128 fr = _mm_andnot_ps(_mm_set1_ps(-0.0f), _mm_sub_ps(v, t));
    const __m128 up = _mm_cmpge_ps(fr, _mm_set1_ps(0.5f));
    return _mm_cvttps_epi32(_mm_add_ps(t, _mm_and_ps(up, _mm_or_ps(sgn, _mm_set1_ps(1.0f)))));
}

/* x[32] -> qs[32] with the reference's arithmetic; returns d; *isum = sum(qs) if asked */
static inline float ea128_q8_block(const float *x, int8_t *qs, int32_t *isum) {
    __m128 v[8];
    __m128 mx = _mm_setzero_ps();
    for (int i = 0; i < 8; i++) {
        v[i] = _mm_loadu_ps(x + 4 * i);
        mx = _mm_max_ps(mx, _mm_andnot_ps(_mm_set1_ps(-0.0f), v[i]));
    }
    mx = _mm_max_ps(mx, _mm_movehl_ps(mx, mx));
    mx = _mm_max_ss(mx, _mm_movehdup_ps(mx));
    const float d = _mm_cvtss_f32(mx) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m128i q[8];
    for (int i = 0; i < 8; i++) q[i] = ea128_round_away(_mm_mul_ps(v[i], _mm_set1_ps(id)));
    const __m128i lo = _mm_packs_epi16(_mm_packs_epi32(q[0], q[1]), _mm_packs_epi32(q[2], q[3]));
    const __m128i hi = _mm_packs_epi16(_mm_packs_epi32(q[4], q[5]), _mm_packs_epi32(q[6], q[7]));
    _mm_storeu_si128((__m128i *)qs, lo);
    _mm_storeu_si128((__m128i *)(qs + 16), hi);
    if (isum) {
        __m128i s = _mm_setzero_si128();
        for (int i = 0; i < 8; i++) s = _mm_add_epi32(s, q[i]);
        s = _mm_hadd_epi32(s, s);
        s = _mm_hadd_epi32(s, s);
        *isum = _mm_cvtsi128_si32(s);
    }
    return d;
}

/* One weight row against C (1..4) activation rows: out[r] = dot(w, a[r]). */
static inline __attribute__((always_inline)) void ea128_rows(const int fmt, const int C, int64_t nb,
                                                             const uint8_t *w, const uint8_t *const *a, float *out) {
    /* weight block bytes, offset of the quants, of qh (q5), whether it has a min m (q8_1 activations) */
    const int WB = fmt == EA128_Q4_0 ? 18 : fmt == EA128_Q8_0 ? 34 : fmt == EA128_Q4_1 ? 20 : fmt == EA128_Q5_0 ? 22 : 24;
    const int WQ = fmt == EA128_Q4_0 || fmt == EA128_Q8_0 ? 2 : fmt == EA128_Q4_1 ? 4 : fmt == EA128_Q5_0 ? 6 : 8;
    const int WH = fmt == EA128_Q5_0 ? 2 : 4;
    const int MIN = fmt == EA128_Q4_1 || fmt == EA128_Q5_1;
    const int AB = MIN ? 36 : 34, AQ = MIN ? 4 : 2;
    const __m128i m0f = _mm_set1_epi8(0x0f);
    __m128 acc[4];
    float ms[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w + b * WB;
        __m128i w0, w1;
        if (fmt == EA128_Q8_0) {
            w0 = _mm_loadu_si128((const __m128i *)(wb + WQ));
            w1 = _mm_loadu_si128((const __m128i *)(wb + WQ + 16));
        } else {
            const __m128i q = _mm_loadu_si128((const __m128i *)(wb + WQ));
            w0 = _mm_and_si128(q, m0f);
            w1 = _mm_and_si128(_mm_srli_epi16(q, 4), m0f);
        }
        if (fmt == EA128_Q5_0 || fmt == EA128_Q5_1) {
            uint32_t qh;
            memcpy(&qh, wb + WH, 4);
            w0 = _mm_or_si128(w0, ea128_qh_bits(qh, 0));
            w1 = _mm_or_si128(w1, ea128_qh_bits(qh, 1));
        }
        ea_fp16 h;
        memcpy(&h, wb, 2);
        const float dw = ea_fp16_to_f32(h);
        float mw = 0.0f;
        if (MIN) {
            memcpy(&h, wb + 2, 2);
            mw = ea_fp16_to_f32(h);
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const uint8_t *ab = a[r] + b * AB;
            const __m128i a0 = _mm_loadu_si128((const __m128i *)(ab + AQ));
            const __m128i a1 = _mm_loadu_si128((const __m128i *)(ab + AQ + 16));
            __m128i iv;
            if (fmt == EA128_Q4_0) iv = _mm_add_epi32(ea128_dot_off(w0, a0, 8), ea128_dot_off(w1, a1, 8));
            else if (fmt == EA128_Q5_0) iv = _mm_add_epi32(ea128_dot_off(w0, a0, 16), ea128_dot_off(w1, a1, 16));
            else if (fmt == EA128_Q8_0) iv = _mm_add_epi32(ea128_dot_ss(w0, a0), ea128_dot_ss(w1, a1));
            else iv = _mm_add_epi32(ea128_dot_us(w0, a0), ea128_dot_us(w1, a1));
            memcpy(&h, ab, 2);
            const float sc = dw * ea_fp16_to_f32(h);
            acc[r] = _mm_add_ps(acc[r], _mm_mul_ps(_mm_cvtepi32_ps(iv), _mm_set1_ps(sc)));
            if (MIN) {
                memcpy(&h, ab + 2, 2);
                ms[r] += mw * ea_fp16_to_f32(h);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea128_hsum(acc[r]) + ms[r];
}

#include "sse4-gemv.h" /* uses ea128_rows */

/* The ea_gemm_fn contract: s[i*lds + j] = dot(w row j, a row i), i < m, j < n. */
static inline __attribute__((always_inline)) void ea128_gemm(const int fmt, int64_t k, int64_t m, int64_t n, float *s,
                                                             int64_t lds, const void *w, size_t ws, const void *a,
                                                             size_t as) {
    if (m == 1) { /* decode: sse4-gemv.h */
        ea128_gemv(fmt, k, n, s, w, ws, a);
        return;
    }
    for (int64_t i0 = 0; i0 < m; i0 += 4) {
        const int C = m - i0 < 4 ? (int)(m - i0) : 4;
        const uint8_t *ar[4];
        for (int r = 0; r < 4; r++) ar[r] = (const uint8_t *)a + (size_t)(i0 + (r < C ? r : 0)) * as;
        for (int64_t j = 0; j < n; j++) {
            const uint8_t *wr = (const uint8_t *)w + (size_t)j * ws;
            float out[4];
            switch (C) {
            case 1: ea128_rows(fmt, 1, k / 32, wr, ar, out); break;
            case 2: ea128_rows(fmt, 2, k / 32, wr, ar, out); break;
            case 3: ea128_rows(fmt, 3, k / 32, wr, ar, out); break;
            default: ea128_rows(fmt, 4, k / 32, wr, ar, out); break;
            }
            for (int r = 0; r < C; r++) s[(i0 + r) * lds + j] = out[r];
        }
    }
}

#endif
