/* Picks, for every (op, type), the best registered variant the CPU supports under the ISA cap.
 * The table is built once and rebuilt only when the cap changes. */
#include <pthread.h>
#include <stdatomic.h>
#include "../edgeai_kernels.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const ea_variant *) g_table[EA_OP_COUNT][EA_TYPE_MAX];
static atomic_int g_ready;
static ea_isa g_cap = EA_ISA_COUNT; /* EA_ISA_COUNT: no cap */

static int usable(ea_isa isa, int cap_rank) {
    int r = ea_isa_rank(isa);
    return r >= 0 && r <= cap_rank && ea_isa_compiled(isa) && ea_isa_supported(isa);
}

/* caller holds g_lock */
static void rebuild(void) {
    int cap_rank = g_cap == EA_ISA_COUNT ? 1 << 20 : ea_isa_rank(g_cap);
    for (int op = 0; op < EA_OP_COUNT; op++)
        for (int t = 0; t < EA_TYPE_MAX; t++) {
            const ea_variant *best = NULL;
            for (size_t i = 0; i < ea_variant_count(); i++) {
                const ea_variant *v = ea_variant_at(i);
                if ((int)v->op != op || (int)v->wtype != t || !usable(v->isa, cap_rank)) continue;
                if (!best || ea_isa_rank(v->isa) > ea_isa_rank(best->isa)) best = v;
            }
            atomic_store(&g_table[op][t], best);
        }
    atomic_store(&g_ready, 1);
}

int ea_set_isa_cap(ea_isa cap) {
    if ((int)cap == (int)EA_ISA_COUNT) {
        /* lift the cap */
    } else if ((int)cap < 0 || cap > EA_ISA_COUNT || ea_isa_rank(cap) < 0) {
        return EA_ERR_ISA;
    }
    pthread_mutex_lock(&g_lock);
    g_cap = cap;
    rebuild();
    pthread_mutex_unlock(&g_lock);
    return EA_OK;
}

ea_isa ea_get_isa_cap(void) { return g_cap; }

int ea_isa_enabled(ea_isa isa) {
    const int r = ea_isa_rank(isa);
    if (r < 0 || !ea_isa_supported(isa)) return 0;
    pthread_mutex_lock(&g_lock);
    const int ok = g_cap == EA_ISA_COUNT || r <= ea_isa_rank(g_cap);
    pthread_mutex_unlock(&g_lock);
    return ok;
}

const ea_variant *ea_dispatch(ea_op op, ea_type type) {
    if ((int)op < 0 || op >= EA_OP_COUNT || (int)type < 0 || type >= EA_TYPE_MAX) return NULL;
    if (!atomic_load(&g_ready)) {
        pthread_mutex_lock(&g_lock);
        if (!atomic_load(&g_ready)) rebuild();
        pthread_mutex_unlock(&g_lock);
    }
    return atomic_load(&g_table[op][type]);
}
