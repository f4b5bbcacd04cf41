/* Persistent thread pool. Workers spin briefly on a generation counter (decode issues hundreds
 * of small matmuls per token, so wake-up latency matters), then sleep on a condition variable. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include "../edgeai_kernels.h"

#define EA_SPIN_ITERS 4096

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ volatile("yield");
#endif
}

static struct {
    pthread_mutex_t submit; /* one job at a time */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int nworkers;
    pthread_t th[EA_MAX_THREADS];
    unsigned start_gen[EA_MAX_THREADS]; /* gen when the worker was created: jobs after it are its */
    atomic_uint gen;
    /* the job */
    ea_task_fn fn;
    void *ctx;
    int64_t ntasks;
    atomic_llong next;
    int active;           /* workers [0, active) take part */
    atomic_int pending;   /* taking part and not yet finished */
} P = {.submit = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER,
       .cv_work = PTHREAD_COND_INITIALIZER, .cv_done = PTHREAD_COND_INITIALIZER};

static atomic_int g_nthreads; /* 0: not yet set */
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static int default_threads(void) {
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int c = CPU_COUNT(&set);
        if (c > 0) return c < EA_MAX_THREADS ? c : EA_MAX_THREADS;
    }
#endif
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    if (c < 1) c = 1;
    return c < EA_MAX_THREADS ? (int)c : EA_MAX_THREADS;
}

void ea_set_num_threads(int n) {
    if (n <= 0) n = default_threads();
    if (n > EA_MAX_THREADS) n = EA_MAX_THREADS;
    atomic_store(&g_nthreads, n);
}

int ea_get_num_threads(void) {
    int n = atomic_load(&g_nthreads);
    if (n == 0) {
        n = default_threads();
        atomic_store(&g_nthreads, n);
    }
    return n;
}

static void run_tasks(int thread) {
    int64_t t;
    while ((t = atomic_fetch_add(&P.next, 1)) < P.ntasks) P.fn(P.ctx, t, thread);
}

static void *worker(void *arg) {
    int idx = (int)(intptr_t)arg;
    /* not atomic_load(&P.gen) here: the job that made us may already have bumped it */
    unsigned seen = P.start_gen[idx];
    for (;;) {
        unsigned g;
        int i = 0;
        while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen && i < EA_SPIN_ITERS) {
            cpu_relax();
            i++;
        }
        if (g == seen) {
            pthread_mutex_lock(&P.mu);
            while ((g = atomic_load(&P.gen)) == seen) pthread_cond_wait(&P.cv_work, &P.mu);
            pthread_mutex_unlock(&P.mu);
        }
        seen = g;
        if (idx < P.active) {
            run_tasks(idx + 1);
            if (atomic_fetch_sub(&P.pending, 1) == 1) {
                pthread_mutex_lock(&P.mu);
                pthread_cond_signal(&P.cv_done);
                pthread_mutex_unlock(&P.mu);
            }
        }
    }
    return NULL;
}

/* A forked child has none of the parent's workers: start over. */
static void atfork_child(void) {
    pthread_mutex_init(&P.submit, NULL);
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv_work, NULL);
    pthread_cond_init(&P.cv_done, NULL);
    P.nworkers = 0;
    atomic_store(&P.pending, 0);
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, atfork_child); }

/* caller holds P.submit; returns how many workers exist afterwards */
static int ensure_workers(int want) {
    while (P.nworkers < want) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        P.start_gen[P.nworkers] = atomic_load(&P.gen);
        int rc = pthread_create(&P.th[P.nworkers], &attr, worker, (void *)(intptr_t)P.nworkers);
        pthread_attr_destroy(&attr);
        if (rc != 0) break; /* run with the workers we have */
        pthread_detach(P.th[P.nworkers]);
        P.nworkers++;
    }
    return P.nworkers;
}

void ea_parallel_for(int64_t ntasks, ea_task_fn fn, void *ctx, int nthreads) {
    if (ntasks <= 0) return;
    if (nthreads <= 0) nthreads = ea_get_num_threads();
    if (nthreads > EA_MAX_THREADS) nthreads = EA_MAX_THREADS;
    if (nthreads > ntasks) nthreads = (int)ntasks;
    if (nthreads <= 1) {
        for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_once(&g_atfork_once, register_atfork);
    pthread_mutex_lock(&P.submit);
    int helpers = ensure_workers(nthreads - 1);
    if (helpers > nthreads - 1) helpers = nthreads - 1;
    P.fn = fn;
    P.ctx = ctx;
    P.ntasks = ntasks;
    atomic_store(&P.next, 0);
    P.active = helpers;
    atomic_store(&P.pending, helpers);
    pthread_mutex_lock(&P.mu);
    atomic_fetch_add_explicit(&P.gen, 1, memory_order_release);
    pthread_cond_broadcast(&P.cv_work);
    pthread_mutex_unlock(&P.mu);

    run_tasks(0);

    for (int i = 0; atomic_load(&P.pending) != 0 && i < EA_SPIN_ITERS; i++) cpu_relax();
    if (atomic_load(&P.pending) != 0) {
        pthread_mutex_lock(&P.mu);
        while (atomic_load(&P.pending) != 0) pthread_cond_wait(&P.cv_done, &P.mu);
        pthread_mutex_unlock(&P.mu);
    }
    pthread_mutex_unlock(&P.submit);
}
