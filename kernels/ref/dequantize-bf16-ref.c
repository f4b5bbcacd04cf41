/* bf16 bits -> float32 (exact). */
#include "../blocks.h"

void ea_dequantize_bf16__ref(const void *vx, float *y, int64_t k) {
    const uint16_t *x = (const uint16_t *)vx;
    for (int64_t i = 0; i < k; i++) y[i] = ea_bf16_to_f32(x[i]);
}
