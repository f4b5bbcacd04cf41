/* C kernel test driver: every registered variant the CPU can run, checked against the __ref of the
 * same op and format, on tail shapes. Arch-neutral: the same file runs on x86 (host, qemu-x86_64)
 * and ARM (qemu-aarch64, qemu-arm); build it with tests/c/build.py.
 *
 *   test_kernels [--expect-isa NAME] [--cap NAME] [--quick] [--filter SUBSTR] [--seed N] [--list] [-v]
 *
 * Checks (per variant, ISA != ref, supported by this CPU):
 *   quantize   : bytes equal to ref's (formats in k_exact_quant), else reconstruction error no worse
 *                than ref's (a K-quant weight quantizer may use its own search);
 *   dequantize : float bits equal to ref's;
 *   dot        : |got - ref| <= tol(format) * sum_i |w_i * x_i|  (w dequantized, x the float input);
 *   gemm       : every s[i, j] of the tile against the ref dot, same tolerance; nothing written
 *                outside the m x n tile (lds > n, padded strides); float formats also in the
 *                layout of attention (rows of k elements inside much wider rows, see check_gemm_wide).
 * Once per run, not per variant: the decode step's softmax and SiLU (kernels/model/softmax.c, act.c)
 * against double exp (check_softmax, check_silu).
 * The reference of an (op, format) is its registered __ref; where the registry has none yet, the
 * scalar model in oracle.c stands in (and the run says "vs oracle").
 * Inputs end on a PROT_NONE page, so a kernel reading past the end of a row buffer crashes here.
 * --expect-isa asserts the dispatch: the best compiled and supported ISA is NAME, and every
 * (op, format) that has a NAME variant dispatches to it. --cap caps the dispatch first (as EDGEAI_ISA
 * does), so a host that runs a higher ISA can check the dispatch of a lower one: the variant checks
 * still run every variant the CPU supports.
 * Exit status: 0 if all checks pass, 1 otherwise, 2 on bad usage. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "edgeai_kernels.h"
#include "oracle.h"
#include "core/cpu.h" /* ea_cpu_feature_name */
#include "model/act.h"
#include "model/softmax.h"

/* ---- tolerances ------------------------------------------------------------------------------ */

/* Dot tolerance per weight format, relative to sum_i |w_i x_i|. The integer block sums are exact;
 * what differs between variants is the float accumulation order across blocks (and for float
 * formats across lanes), a few ulps per block: 2e-5 leaves room for K = 8192 without hiding a wrong
 * block (one wrong block of 256 moves the sum by far more). */
static const struct { const char *fmt; double tol; } k_dot_tol[] = {
    {"f32", 1e-5}, {"f16", 1e-5}, {"bf16", 1e-5},
    {"q8_0", 2e-5}, {"q4_0", 2e-5}, {"q4_1", 2e-5}, {"q5_0", 2e-5}, {"q5_1", 2e-5},
    {"q2_K", 2e-5}, {"q3_K", 2e-5}, {"q4_K", 2e-5}, {"q5_K", 2e-5}, {"q6_K", 2e-5},
};

/* Quantizers that every variant must reproduce byte for byte (the gguf-defined ones and the
 * activation formats, so that a dot's result does not depend on which quantizer ran). */
static const char *const k_exact_quant[] = {"f32", "f16", "bf16", "q8_0", "q8_1", "q8_K", "q4_0",
                                            "q4_1", "q5_0", "q5_1", NULL};

/* Variants that trade precision for speed by design, with their own tolerance (same scale). */
static const struct { const char *variant; double tol; } k_variant_tol[] = {
    /* f16 fp16-arithmetic: fp16 products summed in fp16 over 32 elements (see gemm-f16-f32.h) */
    {"ea_gemm_f16_f32__neondot", 4e-3},
};

static double dot_tol_of(const ea_variant *v) {
    for (size_t i = 0; i < sizeof(k_variant_tol) / sizeof(k_variant_tol[0]); i++)
        if (strcmp(k_variant_tol[i].variant, v->name) == 0) return k_variant_tol[i].tol;
    const char *name = ea_type_info(v->wtype)->name;
    for (size_t i = 0; i < sizeof(k_dot_tol) / sizeof(k_dot_tol[0]); i++)
        if (strcmp(k_dot_tol[i].fmt, name) == 0) return k_dot_tol[i].tol;
    return 2e-5;
}

static int exact_quant(ea_type t) {
    for (int i = 0; k_exact_quant[i]; i++)
        if (strcmp(k_exact_quant[i], ea_type_info(t)->name) == 0) return 1;
    return 0;
}

/* ---- options, counters --------------------------------------------------------------------- */

static int g_quick, g_verbose;
static const char *g_filter;
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static int g_fail, g_checked, g_skipped;

static void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void fail(const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    g_fail++;
}

/* ---- data ------------------------------------------------------------------------------------ */

static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static double urand(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

/* k floats in blocks of 32 with varied scale (1e-3 .. 30), roughly gaussian values, an all-zero
 * block now and then and an occasional outlier: what activations and weights look like. */
static void fill(float *x, int64_t k) {
    for (int64_t b = 0; b < k; b += 32) {
        double scale = pow(10.0, -3.0 + 4.5 * urand());
        int zero = (rnd() % 11) == 0;
        int64_t end = b + 32 < k ? b + 32 : k, top = b;
        for (int64_t i = b; i < end; i++) {
            double g = urand() + urand() + urand() + urand() - 2.0;
            if ((rnd() % 97) == 0) g *= 8.0;
            x[i] = zero ? 0.0f : (float)(g * scale);
            if (fabsf(x[i]) > fabsf(x[top])) top = i;
        }
        /* now and then +a and -a both as the largest magnitude: quantizers must pick the first */
        if (end - b > 1 && (rnd() % 7) == 0) x[b + (top - b + 1 + (int64_t)(rnd() % (uint64_t)(end - b - 1))) % (end - b)] = -x[top];
    }
}

/* A buffer of `size` bytes ending right before a PROT_NONE page (start 16-byte aligned, so at most
 * 15 bytes of slack): a kernel reading past the end of its input faults instead of passing. */
typedef struct { void *base; size_t len; } guard_buf;

static void *galloc(guard_buf *g, size_t size) {
    long page = sysconf(_SC_PAGESIZE);
    size_t body = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
    g->len = body + (size_t)page;
    g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED) { perror("mmap"); exit(2); }
    if (mprotect((char *)g->base + body, (size_t)page, PROT_NONE) != 0) { perror("mprotect"); exit(2); }
    size_t off = (body - size) & ~(size_t)15;
    return (char *)g->base + off;
}

static void gfree(guard_buf *g) { munmap(g->base, g->len); }

/* ---- registry helpers ------------------------------------------------------------------------ */

static const ea_variant *find(ea_op op, ea_type t, ea_isa isa) {
    for (size_t i = 0; i < ea_variant_count(); i++) {
        const ea_variant *v = ea_variant_at(i);
        if (v->op == op && v->wtype == t && v->isa == isa) return v;
    }
    return NULL;
}

static const char *k_op_names[EA_OP_COUNT] = {"quantize", "dequantize", "dot", "gemm"};

/* The reference for (op, type): the registered __ref, else the oracle's model wrapped as a variant. */
static const ea_variant *ref_of(ea_op op, ea_type t) {
    static ea_variant pool[EA_OP_COUNT][EA_TYPE_MAX];
    static char names[EA_OP_COUNT][EA_TYPE_MAX][48];
    const ea_variant *v = find(op, t, EA_ISA_REF);
    if (v) return v;
    void (*fn)(void) = oracle_fn(op, (int)t);
    if (!fn) return NULL;
    ea_variant *o = &pool[op][t];
    snprintf(names[op][t], sizeof(names[op][t]), "oracle %s %s", k_op_names[op], ea_type_info(t)->name);
    o->op = op;
    o->wtype = t;
    o->atype = ea_type_info(t)->act_type;
    o->isa = EA_ISA_REF;
    o->name = names[op][t];
    o->fn = fn;
    return o;
}

/* ---- quantize / dequantize ------------------------------------------------------------------- */

static int64_t k_blocks_full[] = {1, 2, 3, 4, 5, 7, 8, 9, 17};
static int64_t k_blocks_quick[] = {1, 2, 3, 5, 9};
static int64_t k_elems_full[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 200, 256, 259, 1000};
static int64_t k_elems_quick[] = {1, 3, 7, 8, 16, 17, 33, 64, 65, 259};

/* The K values to test for a format: block multiples that exercise 1, 2, 4-block unrolls and
 * their tails; for the float formats (block 1) lengths around every SIMD width. */
static int k_list(ea_type t, const int64_t **ks) {
    int64_t bs = ea_type_info(t)->block_size;
    static int64_t buf[32];
    const int64_t *src;
    int n;
    if (bs == 1) {
        src = g_quick ? k_elems_quick : k_elems_full;
        n = g_quick ? (int)(sizeof(k_elems_quick) / 8) : (int)(sizeof(k_elems_full) / 8);
        bs = 1;
    } else {
        src = g_quick ? k_blocks_quick : k_blocks_full;
        n = g_quick ? (int)(sizeof(k_blocks_quick) / 8) : (int)(sizeof(k_blocks_full) / 8);
        if (bs >= 256 && n > 5) n = 5; /* 1..5 super-blocks cover the K-quant loops */
    }
    for (int i = 0; i < n; i++) buf[i] = src[i] * bs;
    *ks = buf;
    return n;
}

static double rmse_of(const float *x, const float *y, int64_t k) {
    double s = 0;
    for (int64_t i = 0; i < k; i++) s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
    return sqrt(s / (double)(k ? k : 1));
}

static void check_quantize(const ea_variant *v, const ea_variant *ref) {
    const int64_t *ks;
    int nk = k_list(v->wtype, &ks);
    const ea_variant *deq = ref_of(EA_OP_DEQUANTIZE, v->wtype);
    for (int ik = 0; ik < nk; ik++) {
        int64_t k = ks[ik];
        size_t qb = ea_row_size(v->wtype, k);
        guard_buf gx, gy, gr;
        float *x = galloc(&gx, (size_t)k * 4);
        void *y = galloc(&gy, qb), *r = galloc(&gr, qb);
        fill(x, k);
        memset(y, 0xa5, qb);
        memset(r, 0x5a, qb);
        ((ea_quantize_fn)ref->fn)(x, r, k);
        ((ea_quantize_fn)v->fn)(x, y, k);
        g_checked++;
        if (memcmp(y, r, qb) != 0) {
            size_t at = 0;
            while (((unsigned char *)y)[at] == ((unsigned char *)r)[at]) at++;
            if (exact_quant(v->wtype) || !deq) {
                fail(v->name, "k=%lld: bytes differ from %s at byte %zu of %zu", (long long)k, ref->name, at, qb);
            } else {
                float *dy = malloc((size_t)k * 4), *dr = malloc((size_t)k * 4);
                ((ea_dequantize_fn)deq->fn)(y, dy, k);
                ((ea_dequantize_fn)deq->fn)(r, dr, k);
                double ey = rmse_of(x, dy, k), er = rmse_of(x, dr, k);
                if (!(ey <= er * 1.01 + 1e-12))
                    fail(v->name, "k=%lld: rmse %.4g worse than ref's %.4g", (long long)k, ey, er);
                free(dy);
                free(dr);
            }
        }
        gfree(&gx);
        gfree(&gy);
        gfree(&gr);
    }
}

/* Float formats (f16, bf16): every exponent, ties, the inf / subnormal boundaries, NaN and signaling
 * NaN, as bit patterns; the converter must give the ref's bytes for each (fill() makes none of these). */
static void check_quantize_special(const ea_variant *v, const ea_variant *ref) {
    static const uint32_t k_edge[] = {
        0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x3f800000u, 0xbf800000u,
        0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc12345u, 0x7f800001u, 0xff9fffffu, 0x7fbfe000u,
        0x477ff000u, 0x477fefffu, 0x477fe000u, 0x477fffffu, 0x47800000u, 0xc77ff000u,          /* f16 max / inf */
        0x38800000u, 0x387fffffu, 0x387ff000u, 0x38801000u, 0x38803000u,                      /* f16 min normal */
        0x33000000u, 0x32ffffffu, 0x33000001u, 0x33800000u, 0x33c00000u, 0x34200000u, 0xb3c00000u, /* 2^-25, ties */
        0x3f801000u, 0x3f803000u, 0x3f800fffu, 0x3f801001u, 0x3f808000u, 0x3f818000u, 0x3f817fffu, /* ties */
    };
    const int64_t n_sweep = 4000, k = (int64_t)(sizeof(k_edge) / 4) + n_sweep;
    size_t qb = ea_row_size(v->wtype, k);
    guard_buf gx, gy, gr;
    float *x = galloc(&gx, (size_t)k * 4);
    void *y = galloc(&gy, qb), *r = galloc(&gr, qb);
    for (int64_t i = 0; i < k; i++) {
        uint32_t b = i < (int64_t)(sizeof(k_edge) / 4) ? k_edge[i] : (uint32_t)(i * 0x9e3779b1u);
        memcpy(&x[i], &b, 4);
    }
    memset(y, 0xa5, qb);
    memset(r, 0x5a, qb);
    ((ea_quantize_fn)ref->fn)(x, r, k);
    ((ea_quantize_fn)v->fn)(x, y, k);
    g_checked++;
    const uint16_t *yh = y, *rh = r;
    for (int64_t i = 0; i < k; i++)
        if (yh[i] != rh[i]) {
            uint32_t b;
            memcpy(&b, &x[i], 4);
            fail(v->name, "input bits 0x%08x: 0x%04x, ref 0x%04x", b, yh[i], rh[i]);
            break;
        }
    gfree(&gx);
    gfree(&gy);
    gfree(&gr);
}

static void check_dequantize(const ea_variant *v, const ea_variant *ref) {
    const ea_variant *q = ref_of(EA_OP_QUANTIZE, v->wtype);
    if (!q) { fail(v->name, "no quantizer ref for %s to make its input", ea_type_info(v->wtype)->name); return; }
    const int64_t *ks;
    int nk = k_list(v->wtype, &ks);
    for (int ik = 0; ik < nk; ik++) {
        int64_t k = ks[ik];
        size_t qb = ea_row_size(v->wtype, k);
        guard_buf gx, gq, gy, gr;
        float *x = galloc(&gx, (size_t)k * 4);
        void *qx = galloc(&gq, qb);
        float *y = galloc(&gy, (size_t)k * 4), *r = galloc(&gr, (size_t)k * 4);
        fill(x, k);
        ((ea_quantize_fn)q->fn)(x, qx, k);
        ((ea_dequantize_fn)ref->fn)(qx, r, k);
        ((ea_dequantize_fn)v->fn)(qx, y, k);
        g_checked++;
        for (int64_t i = 0; i < k; i++) {
            uint32_t a, b;
            memcpy(&a, &y[i], 4);
            memcpy(&b, &r[i], 4);
            if (a != b) {
                fail(v->name, "k=%lld: element %lld is %.9g, ref %.9g", (long long)k, (long long)i, y[i], r[i]);
                break;
            }
        }
        gfree(&gx);
        gfree(&gq);
        gfree(&gy);
        gfree(&gr);
    }
}

/* ---- dot / gemm -------------------------------------------------------------------------------- */

/* n weight rows and m activation rows of length k, quantized by the refs, with padded strides. */
typedef struct {
    int64_t k, n, m;
    float *wf, *xf;     /* float inputs: n x k, m x k */
    float *wd;          /* weights as the kernels see them (ref-dequantized), n x k */
    char *w, *a;        /* quantized rows */
    size_t ws, as;      /* row strides in bytes (row size + padding) */
    guard_buf gw, ga;
} operands;

static int make_operands(operands *o, const ea_variant *v, int64_t k, int64_t n, int64_t m) {
    ea_type wt = v->wtype, at = v->atype;
    const ea_variant *qw = ref_of(EA_OP_QUANTIZE, wt);
    const ea_variant *dw = ref_of(EA_OP_DEQUANTIZE, wt);
    const ea_variant *qa = ref_of(EA_OP_QUANTIZE, at);
    if (!qw || !qa) {
        fail(v->name, "no ref quantizer for %s / %s to make its inputs", ea_type_info(wt)->name,
             ea_type_info(at)->name);
        return 0;
    }
    memset(o, 0, sizeof(*o));
    o->k = k; o->n = n; o->m = m;
    /* pad each row by 4 bytes so the kernel must honour the stride (4 keeps fp16/f32 alignment) */
    o->ws = ea_row_size(wt, k) + 4;
    o->as = ea_row_size(at, k) + 4;
    o->wf = malloc((size_t)(n * k) * 4);
    o->wd = malloc((size_t)(n * k) * 4);
    o->xf = malloc((size_t)(m * k) * 4);
    /* the last row ends at the guard page: no padding after it */
    o->w = galloc(&o->gw, o->ws * (size_t)n - 4);
    o->a = galloc(&o->ga, o->as * (size_t)m - 4);
    fill(o->wf, n * k);
    fill(o->xf, m * k);
    for (int64_t j = 0; j < n; j++) {
        ((ea_quantize_fn)qw->fn)(o->wf + j * k, o->w + (size_t)j * o->ws, k);
        if (dw) ((ea_dequantize_fn)dw->fn)(o->w + (size_t)j * o->ws, o->wd + j * k, k);
        else memcpy(o->wd + j * k, o->wf + j * k, (size_t)k * 4);
    }
    for (int64_t i = 0; i < m; i++) ((ea_quantize_fn)qa->fn)(o->xf + i * k, o->a + (size_t)i * o->as, k);
    return 1;
}

static void free_operands(operands *o) {
    free(o->wf); free(o->wd); free(o->xf);
    gfree(&o->gw); gfree(&o->ga);
}

/* sum_t |w_t x_t| for weight row j and activation row i: the scale the tolerance is relative to */
static double magnitude(const operands *o, int64_t j, int64_t i) {
    double s = 0;
    for (int64_t t = 0; t < o->k; t++) s += fabs((double)o->wd[j * o->k + t] * (double)o->xf[i * o->k + t]);
    return s;
}

static int close_enough(float got, float want, double mag, double tol) {
    if (isnan(got) || isnan(want)) return 0;
    return fabs((double)got - (double)want) <= tol * mag + 1e-30;
}

static void check_dot(const ea_variant *v, const ea_variant *ref) {
    const int64_t *ks;
    int nk = k_list(v->wtype, &ks);
    double tol = dot_tol_of(v);
    for (int ik = 0; ik < nk; ik++) {
        operands o;
        if (!make_operands(&o, v, ks[ik], 3, 2)) return;
        for (int64_t j = 0; j < o.n; j++)
            for (int64_t i = 0; i < o.m; i++) {
                const void *w = o.w + (size_t)j * o.ws, *a = o.a + (size_t)i * o.as;
                float got = -1.0f, want = -2.0f;
                ((ea_dot_fn)ref->fn)(o.k, &want, w, a);
                ((ea_dot_fn)v->fn)(o.k, &got, w, a);
                double mag = magnitude(&o, j, i);
                g_checked++;
                if (!close_enough(got, want, mag, tol))
                    fail(v->name, "k=%lld row %lld.%lld: %.9g, ref %.9g (|diff| %.3g > %.3g)", (long long)o.k,
                         (long long)j, (long long)i, got, want, fabs((double)got - want), tol * mag);
            }
        free_operands(&o);
    }
}

/* One gemm tile s (m x n, row stride lds, NaN-filled before the call) against want / mag (row stride
 * ldw): each product within tol, nothing written past column n. Reports the first failure. */
static void check_tile(const char *name, const char *what, int64_t k, int64_t m, int64_t n, const float *s,
                       int64_t lds, const float *want, const double *mag, int64_t ldw, double tol) {
    g_checked++;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < lds; j++) {
            float got = s[i * lds + j];
            if (j >= n) {
                if (!isnan(got)) {
                    fail(name, "%sk=%lld m=%lld n=%lld: wrote s[%lld, %lld] outside the tile", what, (long long)k,
                         (long long)m, (long long)n, (long long)i, (long long)j);
                    return;
                }
                continue;
            }
            if (!close_enough(got, want[i * ldw + j], mag[i * ldw + j], tol)) {
                fail(name, "%sk=%lld m=%lld n=%lld: s[%lld, %lld] = %.9g, ref %.9g", what, (long long)k, (long long)m,
                     (long long)n, (long long)i, (long long)j, got, want[i * ldw + j]);
                return;
            }
        }
}

/* 8, 24: an 8-row group after full 16-row ones; 130 (with N = 17 only): past the avx512vnni panels'
 * 128-row groups of activation side data (EA512_PM), which the driver's tiles never reach */
static const int64_t k_m_list[] = {1, 2, 3, 4, 5, 7, 8, 17, 24, 64, 130};
#define K_M_MAX 130
static const int64_t k_n_full[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17};
static const int64_t k_n_quick[] = {1, 2, 3, 4, 5, 8, 9};

static void check_gemm(const ea_variant *v, const ea_variant *ref_dot) {
    const int64_t *ks;
    int nk = k_list(v->wtype, &ks);
    int kstep = g_quick ? 2 : 1; /* a subset of K: the dot test covers the K tails in depth */
    const int64_t *ns = g_quick ? k_n_quick : k_n_full;
    int nn = g_quick ? (int)(sizeof(k_n_quick) / 8) : (int)(sizeof(k_n_full) / 8);
    double tol = dot_tol_of(v);
    for (int ik = 0; ik < nk; ik += kstep) {
        int64_t k = ks[ik];
        operands o;
        if (!make_operands(&o, v, k, 17, K_M_MAX)) return;
        /* reference: every (i, j) of the largest tile once */
        float *want = malloc(sizeof(float) * K_M_MAX * 17);
        double *mag = malloc(sizeof(double) * K_M_MAX * 17);
        for (int64_t i = 0; i < K_M_MAX; i++)
            for (int64_t j = 0; j < 17; j++) {
                ((ea_dot_fn)ref_dot->fn)(k, &want[i * 17 + j], o.w + (size_t)j * o.ws, o.a + (size_t)i * o.as);
                mag[i * 17 + j] = magnitude(&o, j, i);
            }
        for (size_t im = 0; im < sizeof(k_m_list) / 8; im++)
            for (int in = 0; in < nn; in++) {
                int64_t m = k_m_list[im], n = ns[in], lds = n + 3;
                if (m == K_M_MAX && n != 17) continue;
                /* with several N, shift the tile's first weight row so row alignment varies too */
                int64_t j0 = (n < 17 && (in & 1)) ? 1 : 0;
                float *s = malloc(sizeof(float) * (size_t)(m * lds));
                for (int64_t t = 0; t < m * lds; t++) s[t] = NAN;
                ((ea_gemm_fn)v->fn)(k, m, n, s, lds, o.w + (size_t)j0 * o.ws, o.ws, o.a, o.as);
                check_tile(v->name, "", k, m, n, s, lds, want + j0, mag + j0, 17, tol);
                free(s);
            }
        free(want);
        free(mag);
        free_operands(&o);
    }
}

/* Float-weight gemm in the layout attention over a KV cache uses (kernels/model/llama-forward.c):
 * the weight rows are a window of k columns of a wider matrix (V^T: row stride n_ctx elements,
 * window ending at the row's end, so a read past k elements of the last row hits the guard page),
 * the activation rows are windows of a wider matrix too (probabilities: row stride n_ctx floats),
 * and lds is larger than n. k covers the 8-lane tails and long rows; m the GQA group sizes. */
static void check_gemm_wide(const ea_variant *v, const ea_variant *ref_dot) {
    static const int64_t ks[] = {1, 7, 8, 63, 64, 65, 200, 1000};
    static const int64_t ms[] = {1, 2, 3, 4, 5};
    static const int64_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64};
    const ea_variant *qw = ref_of(EA_OP_QUANTIZE, v->wtype);
    double tol = dot_tol_of(v);
    size_t es = ea_row_size(v->wtype, 1); /* bytes per weight element */
    if (!qw || ea_type_info(v->atype)->block_size != 1) return;
    for (size_t ik = 0; ik < sizeof(ks) / 8; ik++) {
        /* wide: a multiple of 4, so both buffers are multiples of 16 bytes and end exactly at the guard */
        int64_t k = ks[ik], wide = (k + 37 + 3 * (int64_t)ik + 3) & ~(int64_t)3, nmax = 64, mmax = 5, lds = nmax + 5;
        int64_t off = wide - k; /* the window: columns [off, wide) of each row */
        guard_buf gw, ga;
        char *w = galloc(&gw, (size_t)(nmax * wide) * es);
        float *a = galloc(&ga, (size_t)(mmax * wide) * 4);
        float *wf = malloc((size_t)(nmax * wide) * 4);
        float *wd = malloc((size_t)(nmax * wide) * 4);
        fill(wf, nmax * wide);
        fill(a, mmax * wide);
        ((ea_quantize_fn)qw->fn)(wf, w, nmax * wide);
        const ea_variant *dq = ref_of(EA_OP_DEQUANTIZE, v->wtype);
        if (dq) ((ea_dequantize_fn)dq->fn)(w, wd, nmax * wide);
        else memcpy(wd, wf, (size_t)(nmax * wide) * 4);
        const char *w0 = w + (size_t)off * es;
        const float *a0 = a + off;
        size_t wst = (size_t)wide * es, ast = (size_t)wide * 4;
        for (size_t im = 0; im < sizeof(ms) / 8; im++)
            for (size_t in = 0; in < sizeof(ns) / 8; in++) {
                int64_t m = ms[im], n = ns[in];
                /* the last weight / activation rows of the buffers: their windows end at the guard */
                const char *wt = w0 + (size_t)(nmax - n) * wst;
                const float *at = a0 + (size_t)(mmax - m) * (size_t)wide;
                float *s = malloc(sizeof(float) * (size_t)(m * lds));
                for (int64_t t = 0; t < m * lds; t++) s[t] = NAN;
                ((ea_gemm_fn)v->fn)(k, m, n, s, lds, wt, wst, at, ast);
                float *want = malloc(sizeof(float) * (size_t)(m * n));
                double *mag = malloc(sizeof(double) * (size_t)(m * n));
                for (int64_t i = 0; i < m; i++)
                    for (int64_t j = 0; j < n; j++) {
                        const float *ar = at + (size_t)i * (size_t)wide;
                        ((ea_dot_fn)ref_dot->fn)(k, &want[i * n + j], wt + (size_t)j * wst, ar);
                        const float *wdr = wd + (size_t)(nmax - n + j) * (size_t)wide + off;
                        double sum = 0;
                        for (int64_t t = 0; t < k; t++) sum += fabs((double)wdr[t] * (double)ar[t]);
                        mag[i * n + j] = sum;
                    }
                check_tile(v->name, "wide ", k, m, n, s, lds, want, mag, n, tol);
                free(want);
                free(mag);
                free(s);
            }
        free(wf);
        free(wd);
        gfree(&gw);
        gfree(&ga);
    }
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

static void print_dispatch(void) {
    for (int op = 0; op < EA_OP_COUNT; op++)
        for (int t = 0; t < EA_TYPE_MAX; t++) {
            int any = 0;
            for (size_t i = 0; i < ea_variant_count(); i++)
                if ((int)ea_variant_at(i)->op == op && (int)ea_variant_at(i)->wtype == t) any = 1;
            if (!any) continue;
            const ea_variant *d = ea_dispatch((ea_op)op, (ea_type)t);
            printf("dispatch %-10s %-5s -> %s\n", k_op_names[op], ea_type_info(t)->name, d ? d->name : "(none)");
        }
}

static int g_cap_rank = 1 << 20; /* --cap */

static int check_expect(const char *name) {
    int exp = ea_isa_from_name(name);
    if (exp < 0 || ea_isa_rank((ea_isa)exp) < 0) {
        printf("FAIL expect-isa: %s is not an ISA of this architecture\n", name);
        return 1;
    }
    int best = EA_ISA_REF, errors = 0;
    for (int isa = 0; isa < EA_ISA_COUNT; isa++)
        if (ea_isa_rank((ea_isa)isa) > ea_isa_rank((ea_isa)best) && ea_isa_rank((ea_isa)isa) <= g_cap_rank &&
            ea_isa_compiled((ea_isa)isa) && ea_isa_supported((ea_isa)isa))
            best = isa;
    if (best != exp) {
        printf("FAIL expect-isa: best compiled and supported ISA (under the cap) is %s, expected %s\n",
               ea_isa_name((ea_isa)best), name);
        errors++;
    }
    int hits = 0;
    for (int op = 0; op < EA_OP_COUNT; op++)
        for (int t = 0; t < EA_TYPE_MAX; t++) {
            const ea_variant *d = ea_dispatch((ea_op)op, (ea_type)t);
            if (!d) continue;
            if (ea_isa_rank(d->isa) > ea_isa_rank((ea_isa)exp)) {
                printf("FAIL expect-isa: %s dispatched above %s\n", d->name, name);
                errors++;
            }
            if (find((ea_op)op, (ea_type)t, (ea_isa)exp)) {
                hits++;
                if (d->isa != (ea_isa)exp) {
                    printf("FAIL expect-isa: %s %s dispatched to %s, expected its %s variant\n", k_op_names[op],
                           ea_type_info(t)->name, d->name, name);
                    errors++;
                }
            }
        }
    if (exp != EA_ISA_REF && hits == 0) {
        printf("FAIL expect-isa: no %s variant is registered in this build\n", name);
        errors++;
    }
    if (!errors) printf("ok expect-isa %s (%d op/format pairs dispatch to it)\n", name, hits);
    return errors;
}

/* ---- attention softmax (kernels/model/softmax.c) --------------------------------------------- */

#define SOFTMAX_REL_TOL 3e-7 /* the header's promise for e^x, x >= -87 */

/* e^x over a dense grid of [-87, 0] and the edges, then softmax chunks of every length 1..70 and a
 * long one against double, with NaN / -inf / far-below entries. Also: the result must not depend
 * on where a chunk starts (the vector loop's alignment) -- exp of x[i] is a function of x[i]. */
static void check_softmax(void) {
    const int before = g_fail;
    enum { G = 1 << 16 };
    static float x[G], y[G];
    for (int i = 0; i < G; i++) x[i] = y[i] = -87.0f * (float)i / (float)(G - 1);
    double want = 0.0;
    for (int i = 0; i < G; i++) want += exp((double)x[i]);
    const float sum = ea_exp_neg_sum(y, G);
    double worst = 0.0;
    int iw = 0;
    for (int i = 0; i < G; i++) {
        const double e = exp((double)x[i]), r = fabs((double)y[i] - e) / e;
        if (!(r <= worst)) worst = r, iw = i;
    }
    g_checked++;
    if (!(worst <= SOFTMAX_REL_TOL))
        fail("ea_exp_neg_sum", "e^%.9g = %.9g, double %.12g: rel. error %.3g > %.1g", x[iw], y[iw], exp((double)x[iw]),
             worst, SOFTMAX_REL_TOL);
    g_checked++;
    if (!(fabs(sum - want) <= 1e-5 * want)) fail("ea_exp_neg_sum", "sum %.9g, double %.12g", sum, want);
    /* edges: exactly 1 at 0; 0 below -87 and at -inf; NaN stays NaN */
    float e[8] = {0.0f, -0.0f, -87.5f, -1e30f, -INFINITY, NAN, -1e-30f, -86.99f};
    ea_exp_neg_sum(e, 8);
    g_checked++;
    if (!(e[0] == 1.0f && e[1] == 1.0f && e[2] == 0.0f && e[3] == 0.0f && e[4] == 0.0f && isnan(e[5]) &&
          e[6] == 1.0f && e[7] > 0.0f && isfinite(e[7])))
        fail("ea_exp_neg_sum", "edges: e^0 %g, e^-0 %g, e^-87.5 %g, e^-1e30 %g, e^-inf %g, e^nan %g, e^-1e-30 %g, e^-86.99 %g",
             e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]);

    /* chunks: s[t] = scale * s[t] then e^(s - max) */
    static float s0[1100], s1[1100 + 3];
    for (int n = 1; n <= 1100; n = n < 70 ? n + 1 : n + 1030) {
        for (int trial = 0; trial < 3; trial++) {
            const float scale = trial == 2 ? 1.0f : 0.125f;
            for (int t = 0; t < n; t++) s0[t] = (float)((urand() * 2.0 - 1.0) * (trial == 1 ? 400.0 : 30.0));
            if (trial == 2 && n > 3) s0[n / 2] = -INFINITY, s0[n - 1] = -1e30f;
            double mx = -INFINITY;
            for (int t = 0; t < n; t++)
                if ((double)s0[t] * scale > mx) mx = (double)s0[t] * scale;
            const int off = n % 4; /* a start at every alignment */
            memcpy(s1 + off, s0, (size_t)n * sizeof(float));
            float got_mx;
            const float got = ea_softmax_chunk(s1 + off, n, scale, &got_mx);
            double ref = 0.0, err = 0.0;
            for (int t = 0; t < n; t++) {
                const double sc = (double)(s0[t] * scale), p = exp(sc - mx);
                ref += p;
                const double d = fabs((double)s1[off + t] - p);
                /* the float product and difference are exact up to one rounding of s - max: ~|s| ulp */
                const double tol = SOFTMAX_REL_TOL * p + 1.2e-7 * fabs(sc - mx) * p + (sc - mx < -86.9 ? 2e-38 : 0.0);
                if (d > tol && d - tol > err) err = d - tol;
            }
            g_checked++;
            if ((float)mx != got_mx || err > 0.0 || !(fabs(got - ref) <= 1e-6 * ref))
                fail("ea_softmax_chunk", "n %d trial %d: max %.9g (want %.9g), sum %.9g (double %.12g), worst excess %.3g", n,
                     trial, got_mx, (float)mx, got, ref, err);
        }
    }
    /* a NaN score is not the maximum, and makes the sum NaN */
    float nanrow[5] = {1.0f, NAN, 3.0f, 2.0f, 0.5f};
    float mxn;
    const float sn = ea_softmax_chunk(nanrow, 5, 1.0f, &mxn);
    g_checked++;
    if (!(mxn == 3.0f && isnan(sn) && isnan(nanrow[1]) && nanrow[2] == 1.0f))
        fail("ea_softmax_chunk", "NaN row: max %g, sum %g", mxn, sn);
    printf("%s ea_softmax_chunk, ea_exp_neg_sum (vs double exp; worst e^x rel. error %.3g)\n",
           g_fail == before ? "ok  " : "FAIL", worst);
}

/* ---- SiLU gate (kernels/model/act.c) --------------------------------------------------------------- */

/* g / (1 + e^-g) * u against double over [-100, 100] (e^x beyond its -87 / 88 ends on both sides),
 * every length 1..9 at every start offset, and the special values. */
static void check_silu(void) {
    const int before = g_fail;
    enum { G = 20001 };
    static float g[G], u[G], g0[G];
    for (int i = 0; i < G; i++) {
        g0[i] = g[i] = -100.0f + 200.0f * (float)i / (float)(G - 1);
        u[i] = (float)(urand() * 4.0 - 2.0);
    }
    ea_silu_mul(g, u, G);
    double worst = 0.0;
    int iw = -1;
    for (int i = 0; i < G; i++) {
        const double x = g0[i], ref = x / (1.0 + exp(-x)) * u[i];
        const double excess = fabs((double)g[i] - ref) - (4e-7 * fabs(ref) + 1e-35);
        if (!(excess <= worst)) worst = isnan(excess) ? INFINITY : excess, iw = i; /* NaN counts as a miss */
    }
    g_checked++;
    if (iw >= 0)
        fail("ea_silu_mul", "silu(%.9g) * %.9g = %.9g, double %.12g", g0[iw], u[iw], g[iw],
             g0[iw] / (1.0 + exp(-(double)g0[iw])) * u[iw]);
    /* short runs at every offset: the tail path must match the vector path bit for bit */
    for (int n = 1; n <= 9; n++)
        for (int off = 0; off < 4; off++) {
            float a[16], b[16];
            for (int i = 0; i < n; i++) a[i] = b[i] = g0[37 * (n + off) + 101 * i];
            ea_silu_mul(a, u + 5, n);            /* alone: n % 4 tail lanes */
            float big[16 + 4];
            memcpy(big, b, sizeof(float) * (size_t)n);
            for (int i = n; i < n + 4; i++) big[i] = 1.0f;
            float ub[20];
            memcpy(ub, u + 5, sizeof(float) * (size_t)n);
            for (int i = n; i < n + 4; i++) ub[i] = 1.0f;
            ea_silu_mul(big, ub, n + (4 - n % 4) % 4); /* the same values inside whole vectors */
            g_checked++;
            if (memcmp(a, big, sizeof(float) * (size_t)n) != 0) fail("ea_silu_mul", "n %d offset %d: tail differs from vector path", n, off);
        }
    float sg[8] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.5f, -88.5f, 1e-30f};
    float su[8] = {3.0f, 3.0f, 2.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    ea_silu_mul(sg, su, 8);
    g_checked++;
    if (!(sg[0] == 0.0f && sg[1] == 0.0f && sg[2] == INFINITY && isnan(sg[3]) && isnan(sg[4]) &&
          fabsf(sg[5] - 88.5f) <= 1e-5f * 88.5f && fabsf(sg[6]) <= 1e-35f && fabsf(sg[7] - 5e-31f) <= 1e-36f))
        fail("ea_silu_mul", "specials: %g %g %g %g %g %g %g %g", sg[0], sg[1], sg[2], sg[3], sg[4], sg[5], sg[6], sg[7]);
    printf("%s ea_silu_mul (vs double; worst excess over tolerance %.3g)\n", g_fail == before ? "ok  " : "FAIL", worst);
}

/* ---- main -------------------------------------------------------------------------------------- */

static int usage(void) {
    fprintf(stderr, "usage: test_kernels [--expect-isa NAME] [--cap NAME] [--quick] [--filter SUBSTR] [--seed N] [--list] [-v]\n");
    return 2;
}

/* ---- ea_act_prescale (conv2d-nhwc.c: an AVX2 absmax where the CPU has it, else SSE2 / scalar) ------ */

/* the rule written out plainly: 2**(E - ceil(log2(max|x|))), E = 20 (10 for q8_1 activations), clamped
 * to [-126, 126]; 1 for all zero, Inf or NaN */
static float prescale_expected(const float *x, int64_t n, int target) {
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return 1.0f;
        if (fabsf(x[i]) > amax) amax = fabsf(x[i]);
    }
    if (amax == 0.0f) return 1.0f;
    int e = target - (int)ceil(log2((double)amax));
    e = e > 126 ? 126 : e < -126 ? -126 : e;
    return ldexpf(1.0f, e);
}

static void check_prescale(void) {
    const char *name = "ea_act_prescale";
    static const int64_t ns[] = {1, 7, 8, 31, 32, 33, 100, 1000, 65536, 65537, 200003};
    const int before = g_fail;
    float *x = (float *)malloc(200003 * sizeof(float));
    for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
        const int64_t n = ns[c];
        for (int kind = 0; kind < 6; kind++) {
            for (int64_t i = 0; i < n; i++) x[i] = (float)(urand() * 2.0 - 1.0);
            const int64_t at = (int64_t)(rnd() % (uint64_t)n);
            if (kind == 1) x[at] = -3.0e35f; /* the max is negative, at a random place */
            if (kind == 2) /* tiny values: the scale clamps at 2**126 */
                for (int64_t i = 0; i < n; i++) x[i] *= 1e-37f;
            if (kind == 1) x[(at + 1) % n] = 1e30f; /* beside it, smaller (for n = 1 it replaces it) */
            if (kind == 3) x[at] = INFINITY;
            if (kind == 4) x[at] = NAN;
            if (kind == 5) memset(x, 0, (size_t)n * sizeof(float));
            for (int threads = 1; threads <= 2; threads++)
                for (int q81 = 0; q81 < 2; q81++) {
                    float sc = 0.0f, un = 0.0f;
                    g_checked++;
                    const int rc = ea_act_prescale(x, n, q81 ? EA_Q8_1 : EA_Q8_0, threads, &sc, &un);
                    const float want = prescale_expected(x, n, q81 ? 10 : 20);
                    if (rc != EA_OK || sc != want || un * sc != 1.0f)
                        fail(name, "n=%lld case %d threads %d q8_1 %d: scale %g, unscale %g, want %g", (long long)n,
                             kind, threads, q81, (double)sc, (double)un, (double)want);
                }
        }
    }
    free(x);
    printf("%s %s\n", g_fail == before ? "ok  " : "FAIL", name);
}

/* ---- ea_set_thread_executor ------------------------------------------------------------------------ */

typedef struct {
    int calls, nworkers, fail; /* fail: return -1 before running any worker */
} fake_exec;

/* runs the workers one after another, the last first (run() claims tasks dynamically, so the first
 * one takes them all: enough to check the contract; concurrent workers run under ONNX Runtime in
 * tests/diffusion/test_diffusion_onnx_fusion_pool.py) */
static int fake_executor(void *ectx, int nworkers, ea_job_run_fn run, void *job) {
    fake_exec *f = (fake_exec *)ectx;
    f->calls++;
    f->nworkers = nworkers;
    if (f->fail) return -1;
    for (int w = nworkers - 1; w >= 0; w--) run(job, w);
    return 0;
}

typedef struct {
    int count[100], worker[100], nested_ok;
    int nested; /* tasks call ea_parallel_for themselves */
} exec_probe;

static void inner_task(void *ctx, int64_t t, int thread) {
    (void)t;
    if (thread != 0) ((exec_probe *)ctx)->nested_ok = 0;
}

static void probe_task(void *ctx, int64_t t, int thread) {
    exec_probe *p = (exec_probe *)ctx;
    p->count[t]++;
    p->worker[t] = thread;
    if (p->nested) ea_parallel_for(5, inner_task, ctx, 4);
}

static void check_executor(void) {
    const char *name = "ea_set_thread_executor";
    for (int fail_mode = 0; fail_mode < 2; fail_mode++) {
        fake_exec f = {0, 0, fail_mode};
        exec_probe p;
        memset(&p, 0, sizeof p);
        p.nested = 1;
        p.nested_ok = 1;
        ea_set_thread_executor(fake_executor, &f);
        ea_parallel_for(100, probe_task, &p, 3);
        p.nested = 0;
        ea_parallel_for(1, probe_task, &p, 3); /* one task: runs inline, not on the executor */
        ea_set_thread_executor(NULL, NULL);
        g_checked++;
        if (f.calls != 1 || f.nworkers != 3) fail(name, "executor called %d times for %d workers (want 1, 3)", f.calls, f.nworkers);
        for (int t = 0; t < 100; t++)
            if (p.count[t] != (t == 0 ? 2 : 1) || p.worker[t] < 0 || p.worker[t] >= 3) {
                fail(name, "%s executor: task %d ran %d times on worker %d", fail_mode ? "failing" : "working", t,
                     p.count[t], p.worker[t]);
                break;
            }
        if (!p.nested_ok) fail(name, "a nested ea_parallel_for did not run serially on worker 0");
        if (fail_mode == 0 && p.worker[1] != 2) fail(name, "worker 2 (run first) did not take the tasks");
    }
    /* removed: the pool again, never the executor */
    fake_exec f = {0, 0, 0};
    ea_set_thread_executor(fake_executor, &f);
    ea_set_thread_executor(NULL, NULL);
    exec_probe p;
    memset(&p, 0, sizeof p);
    ea_parallel_for(100, probe_task, &p, 2);
    g_checked++;
    if (f.calls) fail(name, "a removed executor was called");
    for (int t = 0; t < 100; t++)
        if (p.count[t] != 1) {
            fail(name, "pool after removal: task %d ran %d times", t, p.count[t]);
            break;
        }
    printf("%s %s\n", g_fail ? "FAIL" : "ok  ", name);
}

int main(int argc, char **argv) {
    const char *expect = NULL, *cap = NULL;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect-isa") && i + 1 < argc) expect = argv[++i];
        else if (!strcmp(argv[i], "--cap") && i + 1 < argc) cap = argv[++i];
        else if (!strcmp(argv[i], "--quick")) g_quick = 1;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) g_filter = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) g_rng ^= strtoull(argv[++i], NULL, 0) * 0x2545f4914f6cdd1dull;
        else if (!strcmp(argv[i], "--list")) list = 1;
        else if (!strcmp(argv[i], "-v")) g_verbose = 1;
        else return usage();
    }
    if (g_rng == 0) g_rng = 1;
    printf("isas:");
    for (int isa = 0; isa < EA_ISA_COUNT; isa++)
        if (ea_isa_rank((ea_isa)isa) >= 0)
            printf(" %s(%s%s)", ea_isa_name((ea_isa)isa), ea_isa_compiled((ea_isa)isa) ? "built" : "not built",
                   ea_isa_supported((ea_isa)isa) ? ", cpu" : "");
    printf("\n");
    /* the feature bits the dispatch read (CPUID / getauxval(AT_HWCAP, AT_HWCAP2)) */
    printf("cpu:");
    for (int b = 0; b < 64; b++)
        if ((ea_cpu_features() >> b) & 1) printf(" %s", ea_cpu_feature_name(b) ? ea_cpu_feature_name(b) : "?");
    printf("\n");
    if (list) {
        for (size_t i = 0; i < ea_variant_count(); i++) printf("%s\n", ea_variant_at(i)->name);
        return 0;
    }
    if (cap) {
        const int c = ea_isa_from_name(cap);
        if (c < 0 || ea_set_isa_cap((ea_isa)c) != EA_OK) {
            fprintf(stderr, "--cap %s: not an ISA of this architecture\n", cap);
            return 2;
        }
        g_cap_rank = ea_isa_rank((ea_isa)c);
        printf("cap: %s\n", cap);
    }
    print_dispatch();

    for (size_t i = 0; i < ea_variant_count(); i++) {
        const ea_variant *v = ea_variant_at(i);
        if (v->isa == EA_ISA_REF) continue;
        if (g_filter && !strstr(v->name, g_filter)) continue;
        if (!ea_isa_supported(v->isa)) {
            printf("skip %s (this CPU lacks %s)\n", v->name, ea_isa_name(v->isa));
            g_skipped++;
            continue;
        }
        /* a gemm tile is checked against the ref dot: the ref has no separate gemm */
        ea_op ref_op = v->op == EA_OP_GEMM ? EA_OP_DOT : v->op;
        const ea_variant *ref = ref_of(ref_op, v->wtype);
        int before = g_fail;
        if (!ref) {
            fail(v->name, "no ref %s variant for %s to check against", k_op_names[ref_op], ea_type_info(v->wtype)->name);
            continue;
        }
        switch (v->op) {
        case EA_OP_QUANTIZE:
            check_quantize(v, ref);
            if (ea_type_info(v->wtype)->block_size == 1 && ea_row_size(v->wtype, 1) == 2) check_quantize_special(v, ref);
            break;
        case EA_OP_DEQUANTIZE: check_dequantize(v, ref); break;
        case EA_OP_DOT: check_dot(v, ref); break;
        case EA_OP_GEMM:
            check_gemm(v, ref);
            if (ea_type_info(v->wtype)->block_size == 1) check_gemm_wide(v, ref);
            break;
        default: break;
        }
        printf("%s %s (vs %s)\n", g_fail == before ? "ok  " : "FAIL", v->name,
               strncmp(ref->name, "oracle", 6) == 0 ? "oracle" : "ref");
        fflush(stdout);
    }
    if (!g_filter || strstr("softmax", g_filter)) check_softmax();
    if (!g_filter || strstr("silu", g_filter)) check_silu();
    if (!g_filter || strstr("executor", g_filter)) check_executor();
    if (!g_filter || strstr("prescale", g_filter)) check_prescale();
    int exp_errors = expect ? check_expect(expect) : 0;
    printf("%d checks, %d failures, %d variants skipped (unsupported here)%s\n", g_checked, g_fail + exp_errors,
           g_skipped, g_verbose ? "" : "");
    return (g_fail || exp_errors) ? 1 : 0;
}
