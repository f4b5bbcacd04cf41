/* float32 -> Q8_0 activations, byte-identical to ea_quantize_q8_0__ref. ref: ggml block_q8_0
 * Eight blocks at a time (ea256_q8_blocks8), the last k / 32 % 8 blocks one by one. */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include "avx2-blocks.h"

void ea_quantize_q8_0__avx2(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    const int64_t nb = k / QK8_0;
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256 d;
        ea256_q8_blocks8(x + b * QK8_0, y[b].qs, sizeof(block_q8_0), &d, NULL);
        alignas(16) uint16_t h[8];
        _mm_store_si128((__m128i *)h, _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
        for (int i = 0; i < 8; i++) y[b + i].d = h[i];
    }
    for (; b < nb; b++) y[b].d = ea256_f2h(ea256_q8_block(x + b * QK8_0, y[b].qs, NULL));
}
