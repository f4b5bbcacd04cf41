/* AVX2 GEMV (one activation row) for the 32-element block formats: the LLM decode case, where
 * every weight byte is read once per token from memory. */
#ifndef EDGEAI_X86_AVX2_GEMV_H
#define EDGEAI_X86_AVX2_GEMV_H

#include "avx2-blocks.h"

static inline __attribute__((always_inline)) void ea256_rows(const int fmt, const int C, int64_t nb,
                                                             const uint8_t *w, const uint8_t *const *a, float *out);

/* s[j] = dot(w row j, a), j < n */
static inline __attribute__((always_inline)) void ea256_gemv(const int fmt, int64_t k, int64_t n, float *s,
                                                             const void *w, size_t ws, const void *a) {
    const int64_t nb = k / 32;
    const uint8_t *ar[1] = {(const uint8_t *)a};
    for (int64_t j = 0; j < n; j++) ea256_rows(fmt, 1, nb, (const uint8_t *)w + (size_t)j * ws, ar, &s[j]);
}

#endif
