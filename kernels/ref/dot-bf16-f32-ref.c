/* bf16 weights . float32 activations, accumulated in double: the accurate reference. */
#include "../blocks.h"

void ea_dot_bf16_f32__ref(int64_t k, float *s, const void *vw, const void *va) {
    const uint16_t *w = (const uint16_t *)vw;
    const float *a = (const float *)va;
    double sum = 0.0;
    for (int64_t i = 0; i < k; i++) sum += (double)ea_bf16_to_f32(w[i]) * (double)a[i];
    *s = (float)sum;
}
