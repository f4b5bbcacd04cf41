/* Persistent thread pool.
 *
 * One job at a time. The job's claim state is one 64-bit atomic word:
 *     bits  0..27  next task index to hand out
 *     bits 28..55  number of tasks in the job
 *     bits 56..63  number of helpers allowed to take part (thread ids 1..helpers)
 * A thread takes a task with a compare-and-swap on that word, so a successful claim always pairs a
 * task index with the job it belongs to, whatever job the thread believed it was waking up for.
 * While a claimed task runs, its job cannot finish (the submitter waits for every task to be
 * done), so fn and ctx are stable for it. A helper that wakes late finds nothing to claim and goes
 * back to sleep: the submitter waits for tasks, never for helpers, so a descheduled helper on a
 * loaded machine costs nothing but its share of the work, which the others take.
 *
 * Helpers spin briefly on a wake counter (decode issues hundreds of small matmuls per token, so
 * wake-up latency matters), then sleep on a condition variable. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>
#include "../edgeai_kernels.h"

#define EA_SPIN_ITERS 4096
#define IDX_BITS 28
#define IDX_MASK ((UINT64_C(1) << IDX_BITS) - 1)
#define MAX_CHUNK ((int64_t)IDX_MASK) /* tasks per published job; larger jobs go in chunks */

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
    atomic_uint wake;           /* bumped once per job: helpers wait for it to change */
    _Atomic uint64_t claim;     /* see the top of the file */
    atomic_llong done;          /* tasks of the current job finished */
    /* the job: written by the submitter before `claim` is published (release) */
    ea_task_fn fn;
    void *ctx;
    int64_t base;               /* task offset of this chunk */
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

/* Claims and runs tasks of the current job until none is left for `thread`. The tasks it ran are
 * added to `done` once, on the way out (decode runs ~1000 small tasks per token, and every atomic
 * add on the shared line costs a cache-line transfer between cores): the job cannot end while
 * this thread's count is missing, so fn/ctx/base stay the ones of the tasks it claims. */
static void run_tasks(int thread) {
    uint64_t w = atomic_load_explicit(&P.claim, memory_order_acquire);
    int64_t ran = 0, ntasks = 0;
    for (;;) {
        const uint64_t idx = w & IDX_MASK;
        const uint64_t nt = (w >> IDX_BITS) & IDX_MASK;
        const int helpers = (int)(w >> (2 * IDX_BITS));
        if (idx >= nt || thread > helpers) break;
        if (!atomic_compare_exchange_weak_explicit(&P.claim, &w, w + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* w now holds the current word */
        P.fn(P.ctx, P.base + (int64_t)idx, thread);
        ran++;
        ntasks = (int64_t)nt;
        w = atomic_load_explicit(&P.claim, memory_order_acquire);
    }
    if (ran && atomic_fetch_add_explicit(&P.done, ran, memory_order_acq_rel) + ran == ntasks) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_signal(&P.cv_done);
        pthread_mutex_unlock(&P.mu);
    }
}

static void *worker(void *arg) {
    const int thread = (int)(intptr_t)arg + 1;
    unsigned seen = 0;
    for (;;) {
        run_tasks(thread);
        unsigned g;
        int i = 0;
        while ((g = atomic_load_explicit(&P.wake, memory_order_acquire)) == seen && i < EA_SPIN_ITERS) {
            cpu_relax();
            i++;
        }
        if (g == seen) {
            pthread_mutex_lock(&P.mu);
            while ((g = atomic_load(&P.wake)) == seen) pthread_cond_wait(&P.cv_work, &P.mu);
            pthread_mutex_unlock(&P.mu);
        }
        seen = g;
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
    atomic_store(&P.claim, 0);
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, atfork_child); }

/* caller holds P.submit; returns how many workers exist afterwards */
static int ensure_workers(int want) {
    while (P.nworkers < want) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        int rc = pthread_create(&P.th[P.nworkers], &attr, worker, (void *)(intptr_t)P.nworkers);
        pthread_attr_destroy(&attr);
        if (rc != 0) break; /* run with the workers we have */
        pthread_detach(P.th[P.nworkers]);
        P.nworkers++;
    }
    return P.nworkers;
}

/* caller holds P.submit: runs tasks [base, base + n) with up to `helpers` helpers */
static void run_chunk(int64_t base, int64_t n, ea_task_fn fn, void *ctx, int helpers) {
    P.fn = fn;
    P.ctx = ctx;
    P.base = base;
    atomic_store_explicit(&P.done, 0, memory_order_relaxed);
    atomic_store_explicit(&P.claim, ((uint64_t)helpers << (2 * IDX_BITS)) | ((uint64_t)n << IDX_BITS),
                          memory_order_release);
    pthread_mutex_lock(&P.mu);
    atomic_fetch_add_explicit(&P.wake, 1, memory_order_release);
    pthread_cond_broadcast(&P.cv_work);
    pthread_mutex_unlock(&P.mu);

    run_tasks(0);

    for (int i = 0; atomic_load_explicit(&P.done, memory_order_acquire) != n && i < EA_SPIN_ITERS; i++)
        cpu_relax();
    if (atomic_load_explicit(&P.done, memory_order_acquire) != n) {
        pthread_mutex_lock(&P.mu);
        while (atomic_load_explicit(&P.done, memory_order_acquire) != n) pthread_cond_wait(&P.cv_done, &P.mu);
        pthread_mutex_unlock(&P.mu);
    }
}

/* ---- a host's executor (ea_set_thread_executor) ---- */

static _Thread_local ea_executor_fn t_exec;
static _Thread_local void *t_exec_ctx;
static _Thread_local int t_exec_busy; /* inside an executor job on this thread: nested calls run serially */

void ea_set_thread_executor(ea_executor_fn fn, void *ectx) {
    t_exec = fn;
    t_exec_ctx = ectx;
}

typedef struct {
    ea_task_fn fn;
    void *ctx;
    int64_t ntasks;
    atomic_llong next; /* next task to claim */
} exec_job;

static void exec_run(void *p, int worker) {
    exec_job *j = (exec_job *)p;
    for (int64_t t; (t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->ntasks;)
        j->fn(j->ctx, t, worker);
}

void ea_parallel_for(int64_t ntasks, ea_task_fn fn, void *ctx, int nthreads) {
    if (ntasks <= 0) return;
    if (nthreads <= 0) nthreads = ea_get_num_threads();
    if (nthreads > EA_MAX_THREADS) nthreads = EA_MAX_THREADS;
    if (nthreads > ntasks) nthreads = (int)ntasks;
    if (nthreads <= 1 || t_exec_busy) {
        for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    if (t_exec) {
        exec_job j = {fn, ctx, ntasks, 0};
        t_exec_busy = 1;
        t_exec(t_exec_ctx, nthreads, exec_run, &j);
        /* whatever a failed executor left (the workers it ran have all returned): worker 0 */
        exec_run(&j, 0);
        t_exec_busy = 0;
        return;
    }
    pthread_once(&g_atfork_once, register_atfork);
    pthread_mutex_lock(&P.submit);
    int helpers = ensure_workers(nthreads - 1);
    if (helpers > nthreads - 1) helpers = nthreads - 1;
    for (int64_t base = 0; base < ntasks; base += MAX_CHUNK) {
        const int64_t n = ntasks - base < MAX_CHUNK ? ntasks - base : MAX_CHUNK;
        run_chunk(base, n, fn, ctx, helpers);
    }
    pthread_mutex_unlock(&P.submit);
}
