/* AVX2 building blocks for the 32-element block formats: one block's integer dot product as 8
 * int32 partial sums, plus the exact activation quantizer. Shared by the avx2 dot and gemm files.
 *
 * unsigned x signed: vpmaddubsw multiplies u8 by s8 into saturating s16 pairs, so
 *   q4_0: sum((q - 8) a) = sum(q a) - sum(8 a), both halves exact in s16 (|15*127*2| < 2^15);
 *   q8_0: sum(w a) = sum(|w| * sign(a, w))  (|w| <= 128: 128*127*2 < 2^15, no saturation);
 *   q4_1: sum(q a) with q = 0..15 unsigned, plus m * s per block in float;
 *   q5_0 / q5_1: as q4_0 (offset 16) / q4_1, with the fifth bit from qh.
 *
 * Compiled with -mavxvnni (the *-avxvnni.c files), the same templates use vpdpbusd: 4 u8 x s8
 * products summed straight into int32 lanes, so no int16 partial sums, no saturation bound and no
 * vpmaddwd widening; EA256_VNNI is 1 there. The avx512vnni GEMMs include these templates for their
 * one-row GEMV (avx512-gemv.h) and get the same vpdpbusd on ymm in its EVEX form (AVX-512 VNNI +
 * VL), so EA256_VNNI is 1 there too; ea256_dpbusd names whichever form the build has. The avx2
 * objects do not change (every VNNI line sits under EA256_VNNI). */
#ifndef EDGEAI_X86_AVX2_BLOCKS_H
#define EDGEAI_X86_AVX2_BLOCKS_H

#include <immintrin.h>
#include <stdalign.h>
#include "../blocks.h"

static inline float ea256_h2f(ea_fp16 h) { return _cvtsh_ss(h); }

static inline ea_fp16 ea256_f2h(float f) {
    return (ea_fp16)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}

/* 16 packed nibbles -> 32 u8: elements 0..15 (low nibbles), then 16..31 (high nibbles). */
static inline __m256i ea256_nibbles(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
}

#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
#define EA256_VNNI 1
/* acc + 4 u8 x s8 products per int32 lane: the VEX (AVX-VNNI) or EVEX (AVX-512 VNNI + VL) vpdpbusd */
#ifdef __AVXVNNI__
#define ea256_dpbusd _mm256_dpbusd_avx_epi32
#else
#define ea256_dpbusd _mm256_dpbusd_epi32
#endif

/* u8 x s8 over 32 bytes -> 8 int32 partial sums (exact for any bytes) */
static inline __m256i ea256_dot_us(__m256i u, __m256i s) {
    return ea256_dpbusd(_mm256_setzero_si256(), u, s);
}

/* sum((w - off) a) for unsigned quants w (q4_0: off 8, q5_0: off 16) and q8_0 quants a */
static inline __m256i ea256_dot_off(__m256i w, __m256i a, char off) {
    return _mm256_sub_epi32(ea256_dot_us(w, a), ea256_dot_us(_mm256_set1_epi8(off), a));
}
#else
#define EA256_VNNI 0

/* u8 x s8 over 32 bytes -> 8 int32 partial sums */
static inline __m256i ea256_dot_us(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* sum((w - off) a) for unsigned quants w (q4_0: off 8, q5_0: off 16) and q8_0 quants a;
 * |31 * 127 * 2| + |16 * 127 * 2| < 2^15, so the int16 difference is exact */
static inline __m256i ea256_dot_off(__m256i w, __m256i a, char off) {
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(w, a), _mm256_maddubs_epi16(_mm256_set1_epi8(off), a));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}
#endif

/* s8 . s8 (|w| <= 128 read as unsigned; a != -128, as every q8 quantizer writes) */
static inline __m256i ea256_dot_ss(__m256i w, __m256i a) {
    return ea256_dot_us(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

/* roundf() for |p| < 2**24 (Inf / NaN give 0x80000000, as cvttps does): truncate
 * p + copysign(0.5 - 2**-25, p). The addition rounds to nearest, so a p just below a half stays
 * below the next integer and a half goes up; checked against roundf for every float in [0, 2**24],
 * and the sign is symmetric. 4 ops where the trunc / compare / add form took 8. */
static inline __m256i ea256_round_half_away(__m256 p) {
    const __m256 c = _mm256_or_ps(_mm256_and_ps(p, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(0.49999997f));
    return _mm256_cvttps_epi32(_mm256_add_ps(p, c));
}

/* x[32] -> qs[32] with the reference's arithmetic; returns d (before fp16); *isum = sum(qs) if asked */
static inline float ea256_q8_block(const float *x, int8_t *qs, int32_t *isum) {
    __m256 v[4];
    __m256 mx = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_loadu_ps(x + 8 * i);
        mx = _mm256_max_ps(mx, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v[i]));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float d = _mm_cvtss_f32(m4) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m256i q[4];
    for (int i = 0; i < 4; i++) q[i] = ea256_round_half_away(_mm256_mul_ps(v[i], _mm256_set1_ps(id)));
    /* packs work per 128-bit lane: [q0 q1] -> words [q0lo q1lo q0hi q1hi]; fix the order at the end */
    const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
    const __m256i b = _mm256_packs_epi16(w01, w23);
    const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, ordered);
    if (isum) {
        const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_hadd_epi32(s4, s4);
        s4 = _mm_hadd_epi32(s4, s4);
        *isum = _mm_cvtsi128_si32(s4);
    }
    return d;
}

/* Eight consecutive blocks of 32 floats (x: 256 floats) with ea256_q8_block's results, block b's
 * 32 quants to qs + b * stride; returns the eight d (before fp16) in lanes 0..7 and, if isum, the
 * eight sum(qs). The per-block scalar chain of ea256_q8_block (horizontal max, two divisions,
 * fp16 conversion: ~40 cycles of latency per block) runs once for eight blocks here, in vectors:
 * a max is exact in any order and the divisions are the same IEEE operations, so the bytes are
 * the same. */
static inline void ea256_q8_blocks8(const float *x, int8_t *qs, size_t stride, __m256 *dout, __m256i *isum) {
    const __m256 absm = _mm256_set1_ps(-0.0f);
    __m256 m[8];
#pragma GCC unroll 8
    for (int b = 0; b < 8; b++) {
        const float *xb = x + 32 * b;
        const __m256 a0 = _mm256_andnot_ps(absm, _mm256_loadu_ps(xb)), a1 = _mm256_andnot_ps(absm, _mm256_loadu_ps(xb + 8));
        const __m256 a2 = _mm256_andnot_ps(absm, _mm256_loadu_ps(xb + 16)), a3 = _mm256_andnot_ps(absm, _mm256_loadu_ps(xb + 24));
        m[b] = _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    }
    /* 8 vectors -> lane b = max of m[b]: pairs interleaved, then quads, then the two halves */
    __m256 u[2];
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256 *mm = m + 4 * h;
        const __m256 t0 = _mm256_max_ps(_mm256_unpacklo_ps(mm[0], mm[1]), _mm256_unpackhi_ps(mm[0], mm[1]));
        const __m256 t1 = _mm256_max_ps(_mm256_unpacklo_ps(mm[2], mm[3]), _mm256_unpackhi_ps(mm[2], mm[3]));
        /* per 128-bit half: [b0 b1 b0 b1] and [b2 b3 b2 b3] -> [b0 b1 b2 b3] */
        u[h] = _mm256_max_ps(_mm256_shuffle_ps(t0, t1, 0x44), _mm256_shuffle_ps(t0, t1, 0xee));
    }
    const __m256 amax = _mm256_max_ps(_mm256_permute2f128_ps(u[0], u[1], 0x20), _mm256_permute2f128_ps(u[0], u[1], 0x31));
    const __m256 d = _mm256_div_ps(amax, _mm256_set1_ps(127.0f));
    const __m256 id = _mm256_and_ps(_mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_UQ), _mm256_div_ps(_mm256_set1_ps(1.0f), d));
    alignas(32) float ida[8];
    _mm256_store_ps(ida, id);
    __m256i sums[8];
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
#pragma GCC unroll 8
    for (int b = 0; b < 8; b++) {
        const float *xb = x + 32 * b;
        const __m256 ib = _mm256_broadcast_ss(&ida[b]);
        const __m256i q0 = ea256_round_half_away(_mm256_mul_ps(_mm256_loadu_ps(xb), ib));
        const __m256i q1 = ea256_round_half_away(_mm256_mul_ps(_mm256_loadu_ps(xb + 8), ib));
        const __m256i q2 = ea256_round_half_away(_mm256_mul_ps(_mm256_loadu_ps(xb + 16), ib));
        const __m256i q3 = ea256_round_half_away(_mm256_mul_ps(_mm256_loadu_ps(xb + 24), ib));
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
        _mm256_storeu_si256((__m256i *)(qs + (size_t)b * stride), _mm256_permutevar8x32_epi32(p, order));
        if (isum) sums[b] = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
    }
    if (isum) {
        /* hadd tree: per 128-bit half [s0 s1 s2 s3] of each half's lanes, then the halves added */
        const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(sums[0], sums[1]), _mm256_hadd_epi32(sums[2], sums[3]));
        const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(sums[4], sums[5]), _mm256_hadd_epi32(sums[6], sums[7]));
        *isum = _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
    }
    *dout = d;
}

/* sum of the 32 int8 of v: vpsadbw against 0 on v ^ 0x80 gives sum(v + 128) per 8 bytes */
static inline int32_t ea256_sum_i8(__m256i v) {
    const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
    s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    return _mm_cvtsi128_si32(s) - 32 * 128;
}

/* horizontal sum of 8 floats */
static inline float ea256_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
