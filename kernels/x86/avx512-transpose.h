/* 16 rows x 8 dwords -> 8 columns of 16 dwords, in zmm registers: the panel packs of
 * avx512-panel.h (q8_0) and avx512-kpanel.h (q4_K) use it to interleave 16 weight rows without
 * gathers. */
#ifndef EDGEAI_X86_AVX512_TRANSPOSE_H
#define EDGEAI_X86_AVX512_TRANSPOSE_H

#include <immintrin.h>
#include <stdint.h>

/* For c = 0..7, EMIT(c, v) with v lane r = dword c of the 32 bytes at row[r] + off (r = 0..15).
 * Z[r] = row r | row r + 8 (256-bit halves); an 8 x 8 dword transpose in both halves (unpack 32,
 * unpack 64, then 128-bit lanes joined by vpermt2q): 8 loads + 8 inserts, 24 shuffles. A macro,
 * so each column is used (stored) as soon as it is made: collecting all 8 first in an array
 * measured 2-7% slower in the q8_0 panel (Zen 4, C harness). */
#define EA512_TRANSPOSE16X8(row, off, EMIT)                                                                  \
    do {                                                                                                     \
        __m512i Z_[8], t_[8], tt_[8];                                                                        \
        for (int r_ = 0; r_ < 8; r_++)                                                                       \
            Z_[r_] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)((row)[r_] + (off)))), \
                                        _mm256_loadu_si256((const __m256i *)((row)[r_ + 8] + (off))), 1);    \
        for (int i_ = 0; i_ < 4; i_++) { /* per lane: rows 2i, 2i+1, dwords 0, 1 | 2, 3 */                   \
            t_[2 * i_] = _mm512_unpacklo_epi32(Z_[2 * i_], Z_[2 * i_ + 1]);                                  \
            t_[2 * i_ + 1] = _mm512_unpackhi_epi32(Z_[2 * i_], Z_[2 * i_ + 1]);                              \
        }                                                                                                    \
        for (int h_ = 0; h_ < 2; h_++) { /* rows 0-3 and 4-7 of each half: per lane dword c of 4 rows */     \
            tt_[4 * h_ + 0] = _mm512_unpacklo_epi64(t_[4 * h_], t_[4 * h_ + 2]);                             \
            tt_[4 * h_ + 1] = _mm512_unpackhi_epi64(t_[4 * h_], t_[4 * h_ + 2]);                             \
            tt_[4 * h_ + 2] = _mm512_unpacklo_epi64(t_[4 * h_ + 1], t_[4 * h_ + 3]);                         \
            tt_[4 * h_ + 3] = _mm512_unpackhi_epi64(t_[4 * h_ + 1], t_[4 * h_ + 3]);                         \
        }                                                                                                    \
        /* tt_[c] lanes: dword c of rows 0-3, c + 4 of 0-3, c of 8-11, c + 4 of 8-11; tt_[c + 4]: rows 4-7, 12-15 */ \
        const __m512i ilo_ = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);                                    \
        const __m512i ihi_ = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);                                  \
        for (int c_ = 0; c_ < 4; c_++) {                                                                     \
            EMIT(c_, _mm512_permutex2var_epi64(tt_[c_], ilo_, tt_[c_ + 4]));                                 \
            EMIT(c_ + 4, _mm512_permutex2var_epi64(tt_[c_], ihi_, tt_[c_ + 4]));                             \
        }                                                                                                    \
    } while (0)

#endif /* EDGEAI_X86_AVX512_TRANSPOSE_H */
