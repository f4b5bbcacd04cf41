#include <string.h>
#include "../blocks.h"

void ea_dequantize_f32__ref(const void *x, float *y, int64_t k) { memcpy(y, x, (size_t)k * sizeof(float)); }
