/* Run-time CPU feature detection (once) and the per-architecture ISA priority list.
 * x86: CPUID plus XGETBV, so AVX / AVX-512 count only when the OS saves their registers.
 * Linux/Android ARM: getauxval(AT_HWCAP / AT_HWCAP2). This file is compiled for the baseline. */
#include <pthread.h>
#include <string.h>
#include "../edgeai_kernels.h"
#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define EA_ARCH_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define EA_ARCH_ARM64 1
#elif defined(__arm__)
#define EA_ARCH_ARM32 1
#endif

#if (defined(EA_ARCH_ARM64) || defined(EA_ARCH_ARM32)) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

static const char *const k_isa_names[EA_ISA_COUNT] = {
    "ref", "sse4", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "neoni8mm", "armv7neon",
};

/* Priority lists, lowest first; the rank of an ISA is its index here. */
#if defined(EA_ARCH_X86)
static const ea_isa k_order[] = {EA_ISA_REF, EA_ISA_SSE4, EA_ISA_AVX2, EA_ISA_AVXVNNI, EA_ISA_AVX512VNNI};
#elif defined(EA_ARCH_ARM64)
static const ea_isa k_order[] = {EA_ISA_REF, EA_ISA_NEON, EA_ISA_NEONDOT, EA_ISA_NEONI8MM};
#elif defined(EA_ARCH_ARM32)
static const ea_isa k_order[] = {EA_ISA_REF, EA_ISA_ARMV7NEON};
#else
static const ea_isa k_order[] = {EA_ISA_REF};
#endif
#define EA_N_ORDER ((int)(sizeof(k_order) / sizeof(k_order[0])))

static const char *const k_feature_names[] = {
    "sse2", "ssse3", "sse4_1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
    "avx512_vnni", "avx_vnni", NULL, NULL, NULL, NULL, "asimd", "asimddp", "asimdhp", "i8mm", "vfpv4",
};

const char *ea_cpu_feature_name(int bit) {
    if (bit < 0 || bit >= (int)(sizeof(k_feature_names) / sizeof(k_feature_names[0]))) return NULL;
    return k_feature_names[bit];
}

static uint64_t g_features;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#if defined(EA_ARCH_X86)
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    /* encoded by hand so this baseline file needs no -mxsave */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t detect(void) {
    uint64_t f = 0;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & (1u << 26)) f |= EA_CPU_SSE2;
    if (c & (1u << 9)) f |= EA_CPU_SSSE3;
    if (c & (1u << 19)) f |= EA_CPU_SSE41;
    int osxsave = (c >> 27) & 1;
    int avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_ok = (xcr0 & 0x6) == 0x6;            /* XMM and YMM state */
    int zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    if (!(avx && ymm_ok)) return f;
    f |= EA_CPU_AVX;
    if (fma) f |= EA_CPU_FMA;
    if (f16c) f |= EA_CPU_F16C;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (b & (1u << 5)) f |= EA_CPU_AVX2;
    if (zmm_ok) {
        if (b & (1u << 16)) f |= EA_CPU_AVX512F;
        if (b & (1u << 30)) f |= EA_CPU_AVX512BW;
        if (b & (1u << 31)) f |= EA_CPU_AVX512VL;
        if (c & (1u << 11)) f |= EA_CPU_AVX512VNNI;
    }
    unsigned max_sub = a;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if (a & (1u << 4)) f |= EA_CPU_AVXVNNI;
    }
    return f;
}
#elif defined(EA_ARCH_ARM64)
static uint64_t detect(void) {
    uint64_t f = EA_CPU_ASIMD; /* Advanced SIMD is mandatory on AArch64 */
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    if (!(hw & (1ul << 1))) f &= ~EA_CPU_ASIMD; /* HWCAP_ASIMD */
    if (hw & (1ul << 20)) f |= EA_CPU_ASIMDDP;  /* HWCAP_ASIMDDP */
    if (hw & (1ul << 10)) f |= EA_CPU_ASIMDHP;  /* HWCAP_ASIMDHP */
    if (hw2 & (1ul << 13)) f |= EA_CPU_I8MM;    /* HWCAP2_I8MM */
#elif defined(__APPLE__)
    int v = 0;
    size_t len = sizeof(v);
    if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &len, NULL, 0) == 0 && v) f |= EA_CPU_ASIMDDP;
    v = 0; len = sizeof(v);
    if (sysctlbyname("hw.optional.arm.FEAT_FP16", &v, &len, NULL, 0) == 0 && v) f |= EA_CPU_ASIMDHP;
    v = 0; len = sizeof(v);
    if (sysctlbyname("hw.optional.arm.FEAT_I8MM", &v, &len, NULL, 0) == 0 && v) f |= EA_CPU_I8MM;
#endif
    return f;
}
#elif defined(EA_ARCH_ARM32)
static uint64_t detect(void) {
    uint64_t f = 0;
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    if (hw & (1ul << 12)) f |= EA_CPU_ASIMD;   /* HWCAP_NEON */
    if (hw & (1ul << 16)) f |= EA_CPU_VFPV4;   /* HWCAP_VFPv4 */
#endif
    return f;
}
#else
static uint64_t detect(void) { return 0; }
#endif

static void init_features(void) { g_features = detect(); }

uint64_t ea_cpu_features(void) {
    pthread_once(&g_once, init_features);
    return g_features;
}

const char *ea_isa_name(ea_isa isa) {
    return (isa >= 0 && isa < EA_ISA_COUNT) ? k_isa_names[isa] : NULL;
}

int ea_isa_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < EA_ISA_COUNT; i++)
        if (strcmp(name, k_isa_names[i]) == 0) return i;
    return -1;
}

int ea_isa_rank(ea_isa isa) {
    for (int i = 0; i < EA_N_ORDER; i++)
        if (k_order[i] == isa) return i;
    return -1;
}

int ea_isa_compiled(ea_isa isa) {
    switch (isa) {
    case EA_ISA_REF: return 1;
#ifdef EA_HAVE_SSE4
    case EA_ISA_SSE4: return 1;
#endif
#ifdef EA_HAVE_AVX2
    case EA_ISA_AVX2: return 1;
#endif
#ifdef EA_HAVE_AVXVNNI
    case EA_ISA_AVXVNNI: return 1;
#endif
#ifdef EA_HAVE_AVX512VNNI
    case EA_ISA_AVX512VNNI: return 1;
#endif
#ifdef EA_HAVE_NEON
    case EA_ISA_NEON: return 1;
#endif
#ifdef EA_HAVE_NEONDOT
    case EA_ISA_NEONDOT: return 1;
#endif
#ifdef EA_HAVE_NEONI8MM
    case EA_ISA_NEONI8MM: return 1;
#endif
#ifdef EA_HAVE_ARMV7NEON
    case EA_ISA_ARMV7NEON: return 1;
#endif
    default: return 0;
    }
}

int ea_isa_supported(ea_isa isa) {
    uint64_t f = ea_cpu_features();
    const uint64_t avx2 = EA_CPU_AVX | EA_CPU_AVX2 | EA_CPU_FMA | EA_CPU_F16C;
    switch (isa) {
    case EA_ISA_REF: return 1;
#if defined(EA_ARCH_X86)
    case EA_ISA_SSE4: return (f & (EA_CPU_SSSE3 | EA_CPU_SSE41)) == (EA_CPU_SSSE3 | EA_CPU_SSE41);
    case EA_ISA_AVX2: return (f & avx2) == avx2;
    case EA_ISA_AVXVNNI: return (f & (avx2 | EA_CPU_AVXVNNI)) == (avx2 | EA_CPU_AVXVNNI);
    case EA_ISA_AVX512VNNI: {
        const uint64_t need = avx2 | EA_CPU_AVX512F | EA_CPU_AVX512BW | EA_CPU_AVX512VL | EA_CPU_AVX512VNNI;
        return (f & need) == need;
    }
#elif defined(EA_ARCH_ARM64)
    case EA_ISA_NEON: return (f & EA_CPU_ASIMD) != 0;
    case EA_ISA_NEONDOT: return (f & (EA_CPU_ASIMD | EA_CPU_ASIMDDP)) == (EA_CPU_ASIMD | EA_CPU_ASIMDDP);
    case EA_ISA_NEONI8MM: {
        const uint64_t need = EA_CPU_ASIMD | EA_CPU_ASIMDDP | EA_CPU_I8MM;
        return (f & need) == need;
    }
#elif defined(EA_ARCH_ARM32)
    case EA_ISA_ARMV7NEON: return (f & (EA_CPU_ASIMD | EA_CPU_VFPV4)) == (EA_CPU_ASIMD | EA_CPU_VFPV4);
#endif
    default: (void)f; (void)avx2; return 0;
    }
}
