/* float32 -> Q8_0 activations, byte-identical to ea_quantize_q8_0__ref. ref: ggml block_q8_0 */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-quant.h"

void ea_quantize_q8_0__avx512vnni(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < k / QK8_0; b++) y[b].d = ea512_to_fp16(ea512_q8_block(x + b * QK8_0, y[b].qs, NULL));
}
