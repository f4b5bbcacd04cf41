/* One cache line into L2 (x86 prefetcht1, aarch64 prfm pldl2keep, armv7 pld), as a volatile asm.
 * gcc 12 deletes a loop whose only work is _mm_prefetch or __builtin_prefetch as dead code: it did
 * so to the avx512 panel GEMM's next-panel prefetch (until 2026-12-06 _C.so held no prefetcht1;
 * tests/kernels/test_build_prefetch.py checks for it now) and to the decode attention's KV prefetch
 * (llama-forward.c). Prefetching never faults, so p may lie past the end of a buffer. */
#ifndef EDGEAI_PREFETCH_H
#define EDGEAI_PREFETCH_H

static inline void ea_prefetch_l2(const void *p) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht1 (%0)" ::"r"(p));
#elif defined(__aarch64__)
    __asm__ volatile("prfm pldl2keep, [%0]" ::"r"(p));
#elif defined(__arm__)
    __asm__ volatile("pld [%0]" ::"r"(p));
#else
    __builtin_prefetch(p, 0, 2);
#endif
}

#endif /* EDGEAI_PREFETCH_H */
