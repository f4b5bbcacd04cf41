/* float32 -> Q8_0. Bit-exact with ggml's quantize_row_q8_0_ref and gguf-py's Q8_0.quantize:
 * d = max|x| / 127, q = round-half-away(x / d). ref: ggml-common.h block_q8_0 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q8_0__ref(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < k / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        float amax = 0.0f;
        for (int i = 0; i < QK8_0; i++) amax = fmaxf(amax, fabsf(xb[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        for (int i = 0; i < QK8_0; i++) y[b].qs[i] = (int8_t)roundf(xb[i] * id);
    }
}
