/* float32 -> Q8_1 activations (s = d * sum(qs), d before fp16 rounding), byte-identical to
 * ea_quantize_q8_1__ref. ref: ggml block_q8_1 */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-blocks.h"

void ea_quantize_q8_1__sse4(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = (block_q8_1 *)vy;
    for (int64_t b = 0; b < k / QK8_1; b++) {
        int32_t sum;
        const float d = ea128_q8_block(x + b * QK8_1, y[b].qs, &sum);
        y[b].d = ea_f32_to_fp16(d);
        y[b].s = ea_f32_to_fp16((float)sum * d);
    }
}
