/* AVX-512 VNNI GEMV (one activation row) for q4_0, q4_1 and q8_0 weights: the LLM decode case.
 *
 * It is avx2-gemv.h's one-row-at-a-time plan (groups of 8 blocks along a row, the 8 block sums
 * reduced to one vector, the 8 scales applied at once, one horizontal sum per output), compiled
 * here with AVX-512 VNNI + VL: its vpdpbusd lines (EA256_VNNI, avx2-blocks.h) take the EVEX ymm
 * form, so 4-bit nibbles go in as they are and q8_0 weights as w ^ 0x80 = w + 128 with -128 sum(a)
 * per block added back (exact for every weight, -128 included).
 *
 * Until 2026-12 this file held a two-rows-per-zmm GEMV (row j in the low 256 bits, j + 1 in the
 * high, activations broadcast to both halves), picked from Sapphire Rapids timings against the
 * non-VNNI avx2 GEMV. On Zen 4 (EPYC, family 25 model 17) that engine read weights from DRAM at
 * about half the rate of this one, same-process C harness, 1 thread, cold copies, 31 GB/s streaming
 * read: q8_0 4096 x 4096 10.4 vs 22.2-22.4 GB/s, q8_0 2048 x 5632 12.0 vs 22.9-24.1, q4_1 576 x
 * 1536 (SmolLM2's down projection) 10.3 vs 21.1, q4_0 576 x 1536 9.0 vs 19.8; with the 4-bit rows
 * of 1536 x 576 and 4096 x 4096 0.97-1.17x, and from L2 (1536 x 576: q8_0 36.4 vs 39.7 GB/s, q4_1
 * 21.8 vs 25.1) it was slower too. It was not compared with this one-row VNNI GEMV on Sapphire
 * Rapids, which this machine cannot run. Integer block sums are exact; only the float summation
 * order differs from the reference. */
#ifndef EDGEAI_X86_AVX512_GEMV_H
#define EDGEAI_X86_AVX512_GEMV_H

/* Prefetch 6 KiB ahead for the 4-bit formats and 8 KiB for q8_0, not avx2-gemv.h's 1.5 KiB.
 * Zen 4 (EPYC, 1 thread, cold copies on 2 MiB pages, 29-31 GB/s streaming read), C harness,
 * same process, by prefetch distance 3 / 4 / 6 / 8 KiB (% of the streaming read):
 *   q4_0 4096 x 4096  73-74 / 79-81 / 81-86 / 78;   q4_0 2048 x 5632  79-82 / 79-80 / 85-92 / 79-81
 *   q4_1 4096 x 4096  75-85 / 80-89 / 87-93 / 78-90; q4_1 576 x 1536  70-72 / 75-76 / 80-81 / 78-79
 *   q8_0 4096 x 4096  76-77 / 79-81 / 84 / 89-91 (10-16 KiB: 85-90)
 * With the other core running the same GEMV (memory shared) every distance from 3 to 7 KiB gave
 * the same rate within the spread. On Sapphire Rapids (2 cores) 3 KiB had measured best, 4.5-6
 * ~4% lower, but that was the two-rows-per-zmm GEMV this file no longer holds; not re-measured.
 * Set before avx2-gemm.h pulls in avx2-gemv.h, so only the AVX-512 kernels take it. */
#define EA256_GEMV_PF 6144
#define EA256_GEMV_PF8 8192
#include "avx2-gemm.h" /* ea256_gemv and its prep, with EA256_VNNI set by the AVX-512 VNNI flags */

#if !EA256_VNNI
#error "avx512-gemv.h needs the vpdpbusd GEMV of avx2-gemv.h: build with -mavx512vnni -mavx512vl"
#endif

/* s[j] = dot(w row j, a), j < n */
static inline __attribute__((always_inline)) void ea512_gemv(const int fmt, int64_t k, int64_t n, float *s,
                                                             const void *w, size_t ws, const void *a) {
    ea256_gemv(fmt, k, n, s, w, ws, a);
}

#endif /* EDGEAI_X86_AVX512_GEMV_H */
