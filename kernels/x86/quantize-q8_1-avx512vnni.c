/* float32 -> Q8_1 activations (q8_0 plus s = d * sum(qs), d before fp16 rounding), byte-identical
 * to ea_quantize_q8_1__ref. ref: ggml block_q8_1 */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-quant.h"

void ea_quantize_q8_1__avx512vnni(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = (block_q8_1 *)vy;
    for (int64_t b = 0; b < k / QK8_1; b++) {
        int32_t sum;
        const float d = ea512_q8_block(x + b * QK8_1, y[b].qs, &sum);
        y[b].d = ea512_to_fp16(d);
        y[b].s = ea512_to_fp16((float)sum * d);
    }
}
