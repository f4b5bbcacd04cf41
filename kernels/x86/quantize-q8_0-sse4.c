/* float32 -> Q8_0 activations, byte-identical to ea_quantize_q8_0__ref. ref: ggml block_q8_0 */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-blocks.h"

void ea_quantize_q8_0__sse4(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < k / QK8_0; b++) y[b].d = ea_f32_to_fp16(ea128_q8_block(x + b * QK8_0, y[b].qs, NULL));
}
