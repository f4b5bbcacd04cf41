/* Gated activations (act.h): the portable four-lane code with vexp.h's e^x, and the choice of the
 * x86 files that compute the same bits 8 or 16 lanes at a time. */
#include "act.h"

#include <string.h>

#include "../edgeai_kernels.h"
#include "vexp.h"

static inline ea_v4f silu_mul4(ea_v4f g, ea_v4f u) {
    return g / (ea_v4_splat(1.0f) + ea_v4_exp(-g)) * u;
}

static void silu_mul_ref(float *g, const float *u, int64_t n) {
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

typedef void (*silu_fn)(float *g, const float *u, int64_t n);

#ifdef EA_HAVE_AVX2
void ea_silu_mul__avx2(float *g, const float *u, int64_t n);
#endif
#ifdef EA_HAVE_AVX512VNNI
void ea_silu_mul__avx512vnni(float *g, const float *u, int64_t n);
#endif

/* the function of `isa`, or NULL when this build has none or the CPU (or EDGEAI_ISA) rules it out */
static silu_fn silu_of(ea_isa isa) {
    if (isa != EA_ISA_REF && !ea_isa_enabled(isa)) return NULL;
    switch (isa) {
    case EA_ISA_REF: return silu_mul_ref;
#ifdef EA_HAVE_AVX2
    case EA_ISA_AVX2: return ea_silu_mul__avx2;
#endif
#ifdef EA_HAVE_AVX512VNNI
    case EA_ISA_AVX512VNNI: return ea_silu_mul__avx512vnni;
#endif
    default: return NULL;
    }
}

int ea_silu_mul_isa(int isa, float *g, const float *u, int64_t n) {
    const silu_fn f = silu_of((ea_isa)isa);
    if (!f) return EA_ERR_NOKERNEL;
    f(g, u, n);
    return EA_OK;
}

void ea_silu_mul(float *g, const float *u, int64_t n) {
    /* chosen once; every thread that races here stores the same pointer */
    static silu_fn best;
    silu_fn f = __atomic_load_n(&best, __ATOMIC_ACQUIRE);
    if (!f) {
        static const ea_isa order[] = {EA_ISA_AVX512VNNI, EA_ISA_AVX2, EA_ISA_REF};
        for (size_t i = 0; !f; i++) f = silu_of(order[i]);
        __atomic_store_n(&best, f, __ATOMIC_RELEASE);
    }
    f(g, u, n);
}
