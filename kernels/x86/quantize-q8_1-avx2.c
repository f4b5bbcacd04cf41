/* float32 -> Q8_1 activations (s = d * sum(qs), d before fp16 rounding), byte-identical to
 * ea_quantize_q8_1__ref. ref: ggml block_q8_1 */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include "avx2-blocks.h"

void ea_quantize_q8_1__avx2(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = (block_q8_1 *)vy;
    for (int64_t b = 0; b < k / QK8_1; b++) {
        int32_t sum;
        const float d = ea256_q8_block(x + b * QK8_1, y[b].qs, &sum);
        y[b].d = ea256_f2h(d);
        y[b].s = ea256_f2h((float)sum * d);
    }
}
