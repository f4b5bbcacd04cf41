/* float32 -> Q5_0, bit-exact with gguf-py's Q5_0.quantize: d = (signed max-magnitude value) / -16,
 * q = min(31, trunc(x / d + 16.5)); low 4 bits in qs (element j low nibble, j+16 high nibble),
 * bit 4 of element j in bit j of qh. ref: ggml-common.h block_q5_0 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q5_0__ref(const float *x, void *vy, int64_t k) {
    block_q5_0 *y = (block_q5_0 *)vy;
    for (int64_t b = 0; b < k / QK5_0; b++) {
        const float *xb = x + b * QK5_0;
        float amax = fabsf(xb[0]), max = xb[0];
        for (int i = 1; i < QK5_0; i++)
            if (fabsf(xb[i]) > amax) { /* first index of the largest |x|, as numpy argmax */
                amax = fabsf(xb[i]);
                max = xb[i];
            }
        const float d = max / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        uint32_t qh = 0;
        for (int i = 0; i < QK5_0 / 2; i++) {
            int q0 = (int)truncf(xb[i] * id + 16.5f);
            int q1 = (int)truncf(xb[i + QK5_0 / 2] * id + 16.5f);
            q0 = q0 > 31 ? 31 : q0;
            q1 = q1 > 31 ? 31 : q1;
            y[b].qs[i] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)(q0 >> 4) << i;
            qh |= (uint32_t)(q1 >> 4) << (i + QK5_0 / 2);
        }
        memcpy(y[b].qh, &qh, 4); /* little-endian, as GGUF */
    }
}
