/* Run-time choice of the instruction set used by the fast CPU kernels. */
#include "cpu_simd.h"
#include "pf_common.h"

#include <strings.h>

static int pf_isa_forced = -1; /* pf_cpu_isa_override */
static int pf_isa_cached = -1; /* detection (and PF_CPU_ISA) result */

pf_cpu_isa pf_cpu_isa_detect(void) {
#if PF_CPU_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq"))
        return PF_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return PF_ISA_AVX2;
#endif
    return PF_ISA_GENERIC;
}

const char *pf_cpu_isa_name(pf_cpu_isa isa) {
    switch (isa) {
    case PF_ISA_AVX2: return "avx2";
    case PF_ISA_AVX512: return "avx512";
    default: return "generic";
    }
}

pf_cpu_isa pf_cpu_isa_get(void) {
    int best = __atomic_load_n(&pf_isa_cached, __ATOMIC_RELAXED);
    if (best < 0) {
        best = (int)pf_cpu_isa_detect();
        const char *env = getenv("PF_CPU_ISA");
        if (env && *env) {
            for (int i = 0; i < PF_ISA_COUNT; i++)
                if (!strcasecmp(env, pf_cpu_isa_name((pf_cpu_isa)i)) && i < best) best = i;
        }
        __atomic_store_n(&pf_isa_cached, best, __ATOMIC_RELAXED);
    }
    int forced = __atomic_load_n(&pf_isa_forced, __ATOMIC_RELAXED);
    if (forced >= 0 && forced < best) return (pf_cpu_isa)forced;
    return (pf_cpu_isa)best;
}

void pf_cpu_isa_override(int isa) { __atomic_store_n(&pf_isa_forced, isa < 0 ? -1 : isa, __ATOMIC_RELAXED); }
