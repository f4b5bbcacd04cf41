/* f32 . f32, accumulated in double so the reference is the accurate one. */
#include "../blocks.h"

void ea_dot_f32_f32__ref(int64_t k, float *s, const void *vw, const void *va) {
    const float *w = (const float *)vw, *a = (const float *)va;
    double sum = 0.0;
    for (int64_t i = 0; i < k; i++) sum += (double)w[i] * (double)a[i];
    *s = (float)sum;
}
