/* Per-core int8 dot-product peak: a tight loop of the ISA's int8 multiply-accumulate sequence on
 * registers only (no memory traffic), with enough independent accumulators to cover latency.
 * Built on the fly by bench/membw.py, once per ISA, with -DPEAK_<ISA> and that ISA's flags from
 * kernels/isa_flags.py; loaded with ctypes.
 *
 *   ea_bench_int8_macs_per_iter() -> int8 multiply-adds done by one loop iteration
 *   ea_bench_int8_loop(iters)     -> seconds taken by `iters` iterations (sink keeps results live)
 *
 * The sequences (MACs per instruction group, per accumulator chain):
 *   ref          x86-64: SSE2 pmaddwd on s16 (8 MACs), the baseline's best; aarch64: as neon;
 *                other: scalar int32 multiply-add (1 MAC)
 *   sse4         pmaddubsw + pmaddwd + paddd on xmm (16 MACs)
 *   avx2         vpmaddubsw + vpmaddwd + vpaddd on ymm (32 MACs)
 *   avxvnni      {vex} vpdpbusd ymm (32 MACs)
 *   avx512vnni   vpdpbusd zmm (64 MACs)
 *   neon         smull + smlal2 + sadalp (16 MACs)
 *   neondot      sdot .4s (16 MACs)
 *   neoni8mm     smmla .4s (32 MACs)
 *   armv7neon    vmull.s8 + vpadal.s16 (8 MACs)
 * Each asm statement is volatile so the compiler cannot hoist the loop-invariant products. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

volatile int64_t ea_bench_sink;

#if defined(PEAK_AVX512VNNI)
#include <immintrin.h>
/* 12 chains: vpdpbusd has ~5 cycles latency at up to 2 per cycle; a "+" asm operand counts twice
 * against gcc's 30-operand limit, so 12 accumulators + 2 inputs is near the most one asm takes. */
#define CHAINS 12
#define MACS_PER_ITER (CHAINS * 64)
static void body(int64_t iters) {
    __m512i a = _mm512_set1_epi8((char)ea_bench_sink + 3), b = _mm512_set1_epi8((char)ea_bench_sink + 5);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512i c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(
            "vpdpbusd %[b], %[a], %[c0]\n\t" "vpdpbusd %[b], %[a], %[c1]\n\t"
            "vpdpbusd %[b], %[a], %[c2]\n\t" "vpdpbusd %[b], %[a], %[c3]\n\t"
            "vpdpbusd %[b], %[a], %[c4]\n\t" "vpdpbusd %[b], %[a], %[c5]\n\t"
            "vpdpbusd %[b], %[a], %[c6]\n\t" "vpdpbusd %[b], %[a], %[c7]\n\t"
            "vpdpbusd %[b], %[a], %[c8]\n\t" "vpdpbusd %[b], %[a], %[c9]\n\t"
            "vpdpbusd %[b], %[a], %[c10]\n\t" "vpdpbusd %[b], %[a], %[c11]\n\t"
            : [c0] "+v"(c0), [c1] "+v"(c1), [c2] "+v"(c2), [c3] "+v"(c3), [c4] "+v"(c4), [c5] "+v"(c5),
              [c6] "+v"(c6), [c7] "+v"(c7), [c8] "+v"(c8), [c9] "+v"(c9), [c10] "+v"(c10), [c11] "+v"(c11)
            : [a] "v"(a), [b] "v"(b));
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                 _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
    ea_bench_sink += _mm512_reduce_add_epi32(s);
}

#elif defined(PEAK_AVXVNNI)
#include <immintrin.h>
#define CHAINS 12
#define MACS_PER_ITER (CHAINS * 32)
static void body(int64_t iters) {
    __m256i a = _mm256_set1_epi8((char)ea_bench_sink + 3), b = _mm256_set1_epi8((char)ea_bench_sink + 5);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m256i c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(
            "%{vex%} vpdpbusd %[b], %[a], %[c0]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c1]\n\t"
            "%{vex%} vpdpbusd %[b], %[a], %[c2]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c3]\n\t"
            "%{vex%} vpdpbusd %[b], %[a], %[c4]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c5]\n\t"
            "%{vex%} vpdpbusd %[b], %[a], %[c6]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c7]\n\t"
            "%{vex%} vpdpbusd %[b], %[a], %[c8]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c9]\n\t"
            "%{vex%} vpdpbusd %[b], %[a], %[c10]\n\t" "%{vex%} vpdpbusd %[b], %[a], %[c11]\n\t"
            : [c0] "+x"(c0), [c1] "+x"(c1), [c2] "+x"(c2), [c3] "+x"(c3), [c4] "+x"(c4), [c5] "+x"(c5),
              [c6] "+x"(c6), [c7] "+x"(c7), [c8] "+x"(c8), [c9] "+x"(c9), [c10] "+x"(c10), [c11] "+x"(c11)
            : [a] "x"(a), [b] "x"(b));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                                 _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
    s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c8, c9), _mm256_add_epi32(c10, c11)));
    int32_t o[8];
    memcpy(o, &s, sizeof(o));
    ea_bench_sink += o[0] + o[7];
}

#elif defined(PEAK_AVX2) || defined(PEAK_SSE4)
#include <immintrin.h>
/* pmaddubsw (u8 x s8 -> pairwise s16), pmaddwd by ones (-> s32), paddd: ggml's int8 dot idiom.
 * 4 chains x (product temp + accumulator) + a, b, ones = 11 vector registers (16 available). */
#define CHAINS 4
#ifdef PEAK_AVX2
typedef __m256i vec;
#define MACS_PER_ITER (CHAINS * 32)
#define SET1_8(x) _mm256_set1_epi8(x)
#define SET1_16(x) _mm256_set1_epi16(x)
#define STEP(c, t) \
    "vpmaddubsw %[b], %[a], %[" t "]\n\t" "vpmaddwd %[one], %[" t "], %[" t "]\n\t" "vpaddd %[" t "], %[" c "], %[" c "]\n\t"
#else
typedef __m128i vec;
#define MACS_PER_ITER (CHAINS * 16)
#define SET1_8(x) _mm_set1_epi8(x)
#define SET1_16(x) _mm_set1_epi16(x)
#define STEP(c, t) \
    "movdqa %[a], %[" t "]\n\t" "pmaddubsw %[b], %[" t "]\n\t" "pmaddwd %[one], %[" t "]\n\t" "paddd %[" t "], %[" c "]\n\t"
#endif
static void body(int64_t iters) {
    vec a = SET1_8((char)ea_bench_sink + 3), b = SET1_8((char)ea_bench_sink + 5), one = SET1_16(1);
    vec c0 = SET1_8(0), c1 = c0, c2 = c0, c3 = c0, t0, t1, t2, t3;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(STEP("c0", "t0") STEP("c1", "t1") STEP("c2", "t2") STEP("c3", "t3")
                         : [c0] "+x"(c0), [c1] "+x"(c1), [c2] "+x"(c2), [c3] "+x"(c3),
                           [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3)
                         : [a] "x"(a), [b] "x"(b), [one] "x"(one));
    }
    int32_t o[4 * CHAINS * (int)(sizeof(vec) / 16)];
    memcpy(o, &c0, sizeof(vec));
    memcpy(o + sizeof(vec) / 4, &c1, sizeof(vec));
    memcpy(o + 2 * sizeof(vec) / 4, &c2, sizeof(vec));
    memcpy(o + 3 * sizeof(vec) / 4, &c3, sizeof(vec));
    ea_bench_sink += o[0] + o[5] + o[10] + o[15];
}

#elif defined(PEAK_NEONDOT) || defined(PEAK_NEONI8MM)
#include <arm_neon.h>
#define CHAINS 8
#ifdef PEAK_NEONDOT
#define INSN "sdot"
#define MACS_PER_ITER (CHAINS * 16)
#else
#define INSN "smmla"
#define MACS_PER_ITER (CHAINS * 32)
#endif
#define STEP(c) INSN " %[" c "].4s, %[a].16b, %[b].16b\n\t"
static void body(int64_t iters) {
    int8x16_t a = vdupq_n_s8((int8_t)(ea_bench_sink + 3)), b = vdupq_n_s8((int8_t)(ea_bench_sink + 5));
    int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(STEP("c0") STEP("c1") STEP("c2") STEP("c3") STEP("c4") STEP("c5") STEP("c6") STEP("c7")
                         : [c0] "+w"(c0), [c1] "+w"(c1), [c2] "+w"(c2), [c3] "+w"(c3), [c4] "+w"(c4),
                           [c5] "+w"(c5), [c6] "+w"(c6), [c7] "+w"(c7)
                         : [a] "w"(a), [b] "w"(b));
    }
    int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)), vaddq_s32(vaddq_s32(c4, c5), vaddq_s32(c6, c7)));
    ea_bench_sink += vgetq_lane_s32(s, 0) + vgetq_lane_s32(s, 3);
}

#elif defined(PEAK_NEON) || (defined(PEAK_REF) && defined(__aarch64__))
#include <arm_neon.h>
/* ARMv8.0 has no int8 dot instruction: widen-multiply to s16, then pairwise-accumulate to s32. */
#define CHAINS 6
#define MACS_PER_ITER (CHAINS * 16)
#define STEP(c, t) \
    "smull %[" t "].8h, %[a].8b, %[b].8b\n\t" "smlal2 %[" t "].8h, %[a].16b, %[b].16b\n\t" \
    "sadalp %[" c "].4s, %[" t "].8h\n\t"
static void body(int64_t iters) {
    int8x16_t a = vdupq_n_s8((int8_t)(ea_bench_sink + 3)), b = vdupq_n_s8((int8_t)(ea_bench_sink + 5));
    int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    int16x8_t t0, t1, t2, t3, t4, t5;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(STEP("c0", "t0") STEP("c1", "t1") STEP("c2", "t2") STEP("c3", "t3") STEP("c4", "t4")
                         STEP("c5", "t5")
                         : [c0] "+w"(c0), [c1] "+w"(c1), [c2] "+w"(c2), [c3] "+w"(c3), [c4] "+w"(c4),
                           [c5] "+w"(c5), [t0] "=&w"(t0), [t1] "=&w"(t1), [t2] "=&w"(t2), [t3] "=&w"(t3),
                           [t4] "=&w"(t4), [t5] "=&w"(t5)
                         : [a] "w"(a), [b] "w"(b));
    }
    int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)), vaddq_s32(c4, c5));
    ea_bench_sink += vgetq_lane_s32(s, 0) + vgetq_lane_s32(s, 3);
}

#elif defined(PEAK_ARMV7NEON)
#include <arm_neon.h>
/* 32-bit NEON: vmull.s8 (8 s16 products) then vpadal.s16 into s32 lanes. */
#define CHAINS 6
#define MACS_PER_ITER (CHAINS * 8)
#define STEP(c, t) "vmull.s8 %q[" t "], %P[a], %P[b]\n\t" "vpadal.s16 %q[" c "], %q[" t "]\n\t"
static void body(int64_t iters) {
    int8x8_t a = vdup_n_s8((int8_t)(ea_bench_sink + 3)), b = vdup_n_s8((int8_t)(ea_bench_sink + 5));
    int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    int16x8_t t0, t1, t2, t3, t4, t5;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(STEP("c0", "t0") STEP("c1", "t1") STEP("c2", "t2") STEP("c3", "t3") STEP("c4", "t4")
                         STEP("c5", "t5")
                         : [c0] "+w"(c0), [c1] "+w"(c1), [c2] "+w"(c2), [c3] "+w"(c3), [c4] "+w"(c4),
                           [c5] "+w"(c5), [t0] "=&w"(t0), [t1] "=&w"(t1), [t2] "=&w"(t2), [t3] "=&w"(t3),
                           [t4] "=&w"(t4), [t5] "=&w"(t5)
                         : [a] "w"(a), [b] "w"(b));
    }
    int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)), vaddq_s32(c4, c5));
    ea_bench_sink += vgetq_lane_s32(s, 0) + vgetq_lane_s32(s, 3);
}

#elif defined(__x86_64__) /* PEAK_REF on x86-64: what the baseline (SSE2) offers the compiler */
#include <emmintrin.h>
/* SSE2 has no u8 x s8 multiply: the reference's int8 products widen to s16 and use pmaddwd
 * (8 multiply-adds per instruction), the most gcc can make of the portable C at -O2/-O3. */
#define CHAINS 8
#define MACS_PER_ITER (CHAINS * 8)
#define STEP(c, t) "movdqa %[a], %[" t "]\n\t" "pmaddwd %[b], %[" t "]\n\t" "paddd %[" t "], %[" c "]\n\t"
static void body(int64_t iters) {
    __m128i a = _mm_set1_epi16((short)(ea_bench_sink + 3)), b = _mm_set1_epi16((short)(ea_bench_sink + 5));
    __m128i c0 = _mm_setzero_si128(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m128i t0, t1, t2, t3;
    for (int64_t i = 0; i < iters; i++) {
        __asm__ volatile(STEP("c0", "t0") STEP("c1", "t1") STEP("c2", "t2") STEP("c3", "t3")
                         STEP("c4", "t0") STEP("c5", "t1") STEP("c6", "t2") STEP("c7", "t3")
                         : [c0] "+x"(c0), [c1] "+x"(c1), [c2] "+x"(c2), [c3] "+x"(c3), [c4] "+x"(c4),
                           [c5] "+x"(c5), [c6] "+x"(c6), [c7] "+x"(c7),
                           [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3)
                         : [a] "x"(a), [b] "x"(b));
    }
    __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(c0, c1), _mm_add_epi32(c2, c3)),
                              _mm_add_epi32(_mm_add_epi32(c4, c5), _mm_add_epi32(c6, c7)));
    ea_bench_sink += _mm_cvtsi128_si32(s);
}

#else /* PEAK_REF elsewhere: scalar int32 multiply-add (aarch64 ref is compiled for the same
       * baseline as "neon", so its peak is measured as neon; 32-bit armhf has no NEON baseline) */
#define CHAINS 8
#define MACS_PER_ITER CHAINS
static void body(int64_t iters) {
    int32_t a0 = (int32_t)ea_bench_sink + 3, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3;
    int32_t b0 = (int32_t)ea_bench_sink + 5, b1 = b0 + 1, b2 = b0 + 2, b3 = b0 + 3;
    int32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    for (int64_t i = 0; i < iters; i++) {
        /* an empty asm that "changes" the inputs stops the products being hoisted or vectorised */
        __asm__ volatile("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(b0), "+r"(b1), "+r"(b2), "+r"(b3));
        c0 += a0 * b0; c1 += a1 * b1; c2 += a2 * b2; c3 += a3 * b3;
        c4 += a0 * b1; c5 += a1 * b2; c6 += a2 * b3; c7 += a3 * b0;
    }
    ea_bench_sink += c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
}
#endif

int ea_bench_int8_macs_per_iter(void) { return MACS_PER_ITER; }

double ea_bench_int8_loop(int64_t iters) {
    double t0 = now();
    body(iters);
    return now() - t0;
}
