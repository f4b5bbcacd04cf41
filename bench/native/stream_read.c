/* Streaming-read memory bandwidth: threads each read their own slice of one buffer much larger
 * than the last-level cache, the way a GEMV reads cold weights. Built on the fly by bench/membw.py
 * (cc -O3 -shared, plus the widest vector flags the CPU has), loaded with ctypes.
 *
 * ea_bench_stream_read(bytes, nthreads, passes) -> best GB/s over `passes` full reads.
 * Each pass: all threads meet at a barrier, read their slice, meet again; the pass time is the
 * time between the two barriers, taken by thread 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const uint64_t *buf;
    size_t words;          /* total 64-bit words in buf */
    int nthreads, passes;
    pthread_barrier_t *bar;
    double best;           /* seconds, written by thread 0 */
    volatile uint64_t sink;
} job;

typedef struct { job *j; int id; } arg;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Eight independent sums so the loop is load-bound, not add-latency-bound; -O3 vectorises it. */
static uint64_t read_slice(const uint64_t *p, size_t n) {
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
        a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
    }
    for (; i < n; i++) a0 += p[i];
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

static pthread_mutex_t go_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int go_state; /* 0 wait, 1 run, -1 abort (a thread could not be started) */

static void *worker(void *vp) {
    arg *a = (arg *)vp;
    job *j = a->j;
    /* the barrier exists only once every thread is known to have started, so a failed
     * pthread_create can never leave threads waiting at it forever */
    pthread_mutex_lock(&go_mu);
    while (go_state == 0) pthread_cond_wait(&go_cv, &go_mu);
    int state = go_state;
    pthread_mutex_unlock(&go_mu);
    if (state < 0) return NULL;
    size_t per = j->words / (size_t)j->nthreads;
    size_t lo = per * (size_t)a->id, n = a->id == j->nthreads - 1 ? j->words - lo : per;
    uint64_t s = 0;
    for (int p = 0; p < j->passes; p++) {
        pthread_barrier_wait(j->bar);
        double t0 = now();
        s += read_slice(j->buf + lo, n);
        pthread_barrier_wait(j->bar);
        if (a->id == 0) {
            double t = now() - t0;
            if (p == 0 || t < j->best) j->best = t;
        }
    }
    j->sink += s;
    return NULL;
}

/* Returns best GB/s (1e9 bytes/s), or a negative value if memory or threads could not be had.
 * Not reentrant (one measurement at a time). */
double ea_bench_stream_read(size_t bytes, int nthreads, int passes) {
    if (nthreads < 1 || nthreads > 256 || passes < 1 || bytes < 4096) return -1.0;
    void *mem = NULL;
    if (posix_memalign(&mem, 2 << 20, bytes) != 0) return -2.0;
#ifdef MADV_HUGEPAGE
    /* numpy asks for huge pages on big arrays (so the weights the kernels read have them): the
     * ceiling should not be lowered by TLB misses the kernels do not pay */
    madvise(mem, bytes, MADV_HUGEPAGE);
#endif
    memset(mem, 1, bytes); /* touch every page before timing */
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
    job j;
    memset(&j, 0, sizeof(j));
    j.buf = (const uint64_t *)mem;
    j.words = bytes / 8;
    j.nthreads = nthreads;
    j.passes = passes;
    j.bar = &bar;
    pthread_t th[256];
    arg args[256];
    int started = 0;
    go_state = 0;
    for (int t = 1; t < nthreads; t++) {
        args[t].j = &j;
        args[t].id = t;
        if (pthread_create(&th[t], NULL, worker, &args[t]) != 0) break;
        started++;
    }
    int ok = started == nthreads - 1;
    pthread_mutex_lock(&go_mu);
    go_state = ok ? 1 : -1;
    pthread_cond_broadcast(&go_cv);
    pthread_mutex_unlock(&go_mu);
    double gbs = -3.0;
    if (ok) {
        args[0].j = &j;
        args[0].id = 0;
        worker(&args[0]);
        gbs = (double)(j.words * 8) / j.best * 1e-9;
    }
    for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    free(mem);
    return gbs;
}
