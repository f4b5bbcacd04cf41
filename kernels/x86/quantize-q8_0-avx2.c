/* float32 -> Q8_0 activations, byte-identical to ea_quantize_q8_0__ref. ref: ggml block_q8_0 */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include "avx2-blocks.h"

void ea_quantize_q8_0__avx2(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < k / QK8_0; b++) y[b].d = ea256_f2h(ea256_q8_block(x + b * QK8_0, y[b].qs, NULL));
}
