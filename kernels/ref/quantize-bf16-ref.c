/* float32 -> bf16 bits, round to nearest even (numpy's / gguf-py's conversion, NaN kept quiet). */
#include "../blocks.h"

void ea_quantize_bf16__ref(const float *x, void *vy, int64_t k) {
    uint16_t *y = (uint16_t *)vy;
    for (int64_t i = 0; i < k; i++) y[i] = ea_f32_to_bf16(x[i]);
}
