/*
 * Instruction-set dispatch for the fast CPU kernels.
 *
 * The library is built for the baseline of the target (no -march=native), so
 * kernels that profit from wider vectors are compiled several times with
 * __attribute__((target)) and chosen at run time from what the CPU reports.
 * Every kernel keeps a portable plain-C variant; on non-x86 targets (or other
 * compilers) that is the only one.
 */
#ifndef PF_CPU_SIMD_H
#define PF_CPU_SIMD_H

#include <stdint.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define PF_CPU_X86 1
#define PF_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define PF_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c")))
#else
#define PF_CPU_X86 0
#endif

#if defined(__GNUC__)
#define PF_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PF_ALWAYS_INLINE inline
#endif

typedef enum pf_cpu_isa {
    PF_ISA_GENERIC = 0, /* plain C, whatever the compiler vectorises for the baseline */
    PF_ISA_AVX2,        /* AVX2 + FMA + F16C */
    PF_ISA_AVX512,      /* AVX-512 F/VL/BW/DQ */
    PF_ISA_COUNT
} pf_cpu_isa;

/* The instruction set the kernels use: the best the CPU supports, lowered by
 * PF_CPU_ISA=generic|avx2|avx512 in the environment or pf_cpu_isa_override(). */
pf_cpu_isa pf_cpu_isa_get(void);
/* Best instruction set this CPU supports (ignores overrides). */
pf_cpu_isa pf_cpu_isa_detect(void);
/* Force an instruction set (tests exercise every variant); clamped to what the CPU
 * supports. Negative: back to automatic. Not thread-safe against running kernels. */
void pf_cpu_isa_override(int isa);
const char *pf_cpu_isa_name(pf_cpu_isa isa);

#endif /* PF_CPU_SIMD_H */
