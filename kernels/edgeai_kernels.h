/* edgeai kernel API: the one public C header.
 *
 * Weight formats are the ggml/GGUF block layouts byte for byte (see blocks.h),
 * so a GGUF tensor can be handed to these functions in place.
 *
 * Naming: ea_<op>_<weight fmt>_<activation fmt>__<isa>, e.g. ea_dot_q4_0_q8_0__avx2.
 * Every kernel variant is registered once, in variants.inc.
 */
#ifndef EDGEAI_KERNELS_H
#define EDGEAI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tensor types: the values are ggml's type ids, so GGUF tensor_info.type maps directly. */
typedef enum ea_type {
    EA_F32 = 0,
    EA_F16 = 1,
    EA_Q4_0 = 2,
    EA_Q4_1 = 3,
    EA_Q5_0 = 6,
    EA_Q5_1 = 7,
    EA_Q8_0 = 8,
    EA_Q8_1 = 9,   /* activation format for q4_1/q5_1: q8_0 plus d*sum(qs) */
    EA_Q2_K = 10,
    EA_Q3_K = 11,
    EA_Q4_K = 12,
    EA_Q5_K = 13,
    EA_Q6_K = 14,
    EA_Q8_K = 15,  /* activation format for the K-quants */
    EA_BF16 = 30,
    EA_TYPE_MAX = 31
} ea_type;

/* Instruction-set variants: a closed list; each is one flag set (build) and one run-time predicate. */
typedef enum ea_isa {
    EA_ISA_REF = 0,
    EA_ISA_SSE4,        /* SSSE3 + SSE4.1 */
    EA_ISA_AVX2,        /* AVX2 + FMA + F16C */
    EA_ISA_AVXVNNI,     /* AVX2 + FMA + F16C + AVX-VNNI (VEX) */
    EA_ISA_AVX512VNNI,  /* AVX-512 F/BW/VL + VNNI, plus AVX2/FMA/F16C */
    EA_ISA_NEON,        /* AArch64 ARMv8.0 Advanced SIMD */
    EA_ISA_NEONDOT,     /* ARMv8.2 + dotprod (+fp16 where present) */
    EA_ISA_NEONI8MM,    /* ARMv8.2 + dotprod + i8mm */
    EA_ISA_ARMV7NEON,   /* 32-bit ARMv7 NEON (VFPv4) */
    EA_ISA_COUNT
} ea_isa;

typedef enum ea_op {
    EA_OP_QUANTIZE = 0,  /* ea_quantize_fn   : float rows -> blocks */
    EA_OP_DEQUANTIZE,    /* ea_dequantize_fn : blocks -> float rows */
    EA_OP_DOT,           /* ea_dot_fn        : one weight row . one activation row */
    EA_OP_GEMM,          /* ea_gemm_fn       : an m x n tile of dot products */
    EA_OP_COUNT
} ea_op;

/* Status codes returned by the driver functions (never abort on bad input). */
enum {
    EA_OK = 0,
    EA_ERR_TYPE = -1,      /* unknown or unsupported type for this op */
    EA_ERR_SHAPE = -2,     /* k not a multiple of the block size, negative sizes */
    EA_ERR_NOMEM = -3,
    EA_ERR_ISA = -4,       /* unknown ISA name */
    EA_ERR_NOKERNEL = -5   /* no kernel registered for this op and type */
};

/* x: k floats; y: k/block_size blocks. k must be a multiple of the block size. */
typedef void (*ea_quantize_fn)(const float *x, void *y, int64_t k);
/* x: k/block_size blocks; y: k floats. */
typedef void (*ea_dequantize_fn)(const void *x, float *y, int64_t k);
/* *s = sum_i W[i] * A[i] over k elements; w in the weight type, a in its activation type. */
typedef void (*ea_dot_fn)(int64_t k, float *s, const void *w, const void *a);
/* s[i*lds + j] = dot(w row j, a row i) for i < m, j < n.
 * w: n rows, row stride w_stride bytes; a: m rows, row stride a_stride bytes. */
typedef void (*ea_gemm_fn)(int64_t k, int64_t m, int64_t n, float *s, int64_t lds,
                           const void *w, size_t w_stride, const void *a, size_t a_stride);
/* The widest register blocking of the gemm kernels along n (weight rows). Callers that split W's
 * rows over threads cut on multiples of it, so a row keeps its place in the kernels' row tiles
 * however the rows are split: results never depend on the thread count. */
#define EA_ROW_TILE 16

/* ---- formats ---------------------------------------------------------------- */

typedef struct ea_type_traits {
    const char *name;      /* ggml name: "q4_0" */
    int64_t block_size;    /* elements per block (1 for float types) */
    size_t type_size;      /* bytes per block */
    ea_type act_type;      /* activation type its dot kernels take (F32 for float weights) */
    int is_weight;         /* usable as a matmul weight */
} ea_type_traits;

/* NULL for an unknown type id. */
const ea_type_traits *ea_type_info(int type);
/* -1 for an unknown name. */
int ea_type_from_name(const char *name);
/* Bytes of one row of k elements; 0 if k is not a multiple of the block size or the type is unknown. */
size_t ea_row_size(ea_type type, int64_t k);

/* ---- kernel registry (variants.inc) ---------------------------------------- */

typedef struct ea_variant {
    ea_op op;
    ea_type wtype;      /* the format quantized / dequantized / multiplied */
    ea_type atype;      /* activation type (dot, gemm); source F32 for quantize */
    ea_isa isa;
    const char *name;   /* "ea_dot_q4_0_q8_0__avx2" */
    void (*fn)(void);   /* cast to the op's function type */
} ea_variant;

size_t ea_variant_count(void);
const ea_variant *ea_variant_at(size_t i);

/* ---- CPU features and dispatch --------------------------------------------- */

const char *ea_isa_name(ea_isa isa);
int ea_isa_from_name(const char *name);       /* -1 if unknown */
int ea_isa_rank(ea_isa isa);                  /* position in this arch's priority list; -1 if not of this arch */
int ea_isa_compiled(ea_isa isa);              /* kernels of this ISA are in the build */
int ea_isa_supported(ea_isa isa);             /* CPU and OS can run it (detected once) */
uint64_t ea_cpu_features(void);               /* raw feature bits, see EA_CPU_* in cpu.h */
/* Cap the dispatch at `cap` (and below in priority). Returns EA_OK or EA_ERR_ISA. */
int ea_set_isa_cap(ea_isa cap);
ea_isa ea_get_isa_cap(void);
/* the CPU runs isa and the cap allows it: for code outside the variant table that picks its own
 * ISA path at run time (conv2d-nhwc.c's absmax and pack); compiled in or not is the caller's concern */
int ea_isa_enabled(ea_isa isa);
/* Best usable variant for (op, type) under the cap; NULL if none. */
const ea_variant *ea_dispatch(ea_op op, ea_type type);

/* ---- threads ----------------------------------------------------------------- */

/* n <= 0 resets to the default: the number of CPUs this process may run on. */
void ea_set_num_threads(int n);
int ea_get_num_threads(void);

/* Runs fn(ctx, task, thread) for task in [0, ntasks) on the persistent pool, using up to
 * nthreads threads (<= 0: the global count); thread is in [0, nthreads). Returns when all are done.
 * Calls from several threads at once are serialized on the pool (a thread with an executor, below,
 * uses that instead). */
typedef void (*ea_task_fn)(void *ctx, int64_t task, int thread);
void ea_parallel_for(int64_t ntasks, ea_task_fn fn, void *ctx, int nthreads);

/* A host's thread pool, for ea_parallel_for calls made on one thread (the ONNX Runtime custom ops
 * run edgeai's kernels on ONNX Runtime's intra-op pool this way: one set of workers, which may
 * spin between the graph's ops, instead of two pools taking turns on the same cores).
 * The executor must call run(job, w) once for each w in [0, nworkers), as many at once as it
 * can, and return when all have returned; it returns 0, or nonzero if it failed, in which case
 * ea_parallel_for finishes the job on the calling thread. Tasks are claimed dynamically, so a
 * run(job, w) that starts late only takes what is left; w is the task's `thread`.
 * ea_set_thread_executor installs fn (NULL: remove) for the calling thread only; ea_parallel_for
 * calls made inside a task running on that thread then run serially (inside a task on one of the
 * executor's own workers they would go to edgeai's pool; no kernel nests them). */
typedef void (*ea_job_run_fn)(void *job, int worker);
typedef int (*ea_executor_fn)(void *ectx, int nworkers, ea_job_run_fn run, void *job);
void ea_set_thread_executor(ea_executor_fn fn, void *ectx);
#define EA_MAX_THREADS 64

/* ---- drivers ----------------------------------------------------------------- */

int ea_quantize_rows(ea_type type, const float *x, void *y, int64_t nrows, int64_t k);
int ea_dequantize_rows(ea_type type, const void *x, float *y, int64_t nrows, int64_t k);

/* y[m, n] = x[m, k] @ W[n, k]^T. W: n rows of `wtype`, row stride ea_row_size(wtype, k).
 * x, y: float32, C-contiguous. nthreads <= 0 uses the global count. Thread count never changes
 * the result bits. */
int ea_matmul(ea_type wtype, const void *w, int64_t n, int64_t k,
              const float *x, int64_t m, float *y, int nthreads);

/* Same with an explicit variant pair, for tests and benchmarks: quantize activations with
 * `aq` (may be NULL for float weights), multiply with `dot` or `gemm` (one may be NULL). */
int ea_matmul_with(ea_type wtype, const void *w, int64_t n, int64_t k,
                   const float *x, int64_t m, float *y, int nthreads,
                   const ea_variant *aq, const ea_variant *dot, const ea_variant *gemm);

/* y[i][m, n[i]] = x[m, k] @ W[i][n[i], k]^T for count (1..EA_MATMUL_GROUP_MAX) weights of one type
 * and K, e.g. a layer's Q, K and V projections: x is quantized once and all the tiles go to the
 * pool as one job. Each output's bits are those of ea_matmul on its own weight. */
#define EA_MATMUL_GROUP_MAX 8
int ea_matmul_group(ea_type wtype, int count, const void *const *w, const int64_t *n, int64_t k,
                    const float *x, int64_t m, float *const *y, int nthreads);

#ifdef __cplusplus
}
#endif
#endif /* EDGEAI_KERNELS_H */
