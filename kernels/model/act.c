/* Gated activations (act.h), four lanes at a time with vexp.h's e^x. */
#include "act.h"

#include <string.h>

#include "vexp.h"

static inline ea_v4f silu_mul4(ea_v4f g, ea_v4f u) {
    return g / (ea_v4_splat(1.0f) + ea_v4_exp(-g)) * u;
}

void ea_silu_mul(float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) ea_v4_store(g + i, silu_mul4(ea_v4_load(g + i), ea_v4_load(u + i)));
    if (i < n) {
        /* the last n % 4 through zero-padded vectors */
        float gb[4] = {0.0f, 0.0f, 0.0f, 0.0f}, ub[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(gb, g + i, (size_t)(n - i) * sizeof(float));
        memcpy(ub, u + i, (size_t)(n - i) * sizeof(float));
        ea_v4_store(gb, silu_mul4(ea_v4_load(gb), ea_v4_load(ub)));
        memcpy(g + i, gb, (size_t)(n - i) * sizeof(float));
    }
}
