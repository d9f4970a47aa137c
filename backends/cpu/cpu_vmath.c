/* Vectorised exp and activations (see cpu_vmath.h), one body compiled per instruction set. */
#include "cpu_vmath.h"
#include "cpu_ops.h"
#include "cpu_simd.h"

/*
 * exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]
 * (ln2 split in two parts so that n * ln2_hi is exact), exp(r) by the
 * degree-7 minimax polynomial of Cephes expf (about 1 ulp), and 2^n applied as
 * two factors 2^(n/2) 2^(n - n/2) so that every n in [-150, 128] (results from
 * denormal to overflow) is represented exactly. Branch-free: the compiler turns
 * the loops below into vector code.
 */
static PF_ALWAYS_INLINE float pf_vm_exp(float x) {
    const float hi = 88.72283935546875f, lo = -103.97208404541015625f;
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    xc = xc == xc ? xc : 0.0f; /* NaN: computed on 0, replaced below */
    float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = xc - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    int32_t n = (int32_t)fn, n1 = n / 2, n2 = n - n1;
    uint32_t u1 = (uint32_t)(n1 + 127) << 23, u2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &u1, 4);
    memcpy(&s2, &u2, 4);
    float res = p * s1 * s2;
    res = x > hi ? INFINITY : res;
    res = x < lo ? 0.0f : res;
    return x == x ? res : x;
}

/* exp(x) for x <= 0 (softmax after subtracting the row maximum): the same polynomial,
 * one scale factor, results below FLT_MIN (x < -87.33) flushed to 0 (an absolute error
 * under 1.2e-38), -inf -> 0, NaN propagates. About half the instructions of pf_vm_exp. */
static PF_ALWAYS_INLINE float pf_vm_exp_neg(float x) {
    const float lo = -87.33654475f;
    float xc = x < lo ? lo : x;
    xc = xc == xc ? xc : 0.0f;
    float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    uint32_t u = (uint32_t)((int32_t)fn + 127) << 23;
    float sc;
    memcpy(&sc, &u, 4);
    float res = x < lo ? 0.0f : p * sc;
    return x == x ? res : x;
}

/* x * sigmoid(k x) = x / (1 + exp(-k x)); k = 1 (SiLU), 1.702 (quick GELU) */
static PF_ALWAYS_INLINE float pf_vm_xsig(float x, float k) { return x / (1.0f + pf_vm_exp(-k * x)); }

/* GELU, tanh form: 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3);
 * the sigmoid form avoids tanh's cancellation near u = 0 and matches to a few ulp. */
static PF_ALWAYS_INLINE float pf_vm_gelu_tanh(float x) {
    float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return x / (1.0f + pf_vm_exp(-2.0f * u));
}

#define PF_VM_MAP(NAME, EXPR)                                      \
    static void NAME(float *y, const float *x, int64_t n) {        \
        if (y == x) {                                              \
            for (int64_t i = 0; i < n; i++) {                      \
                float v = y[i];                                    \
                y[i] = EXPR;                                       \
            }                                                      \
        } else {                                                   \
            for (int64_t i = 0; i < n; i++) {                      \
                float v = x[i];                                    \
                y[i] = EXPR;                                       \
            }                                                      \
        }                                                          \
    }

/* One set of loops per instruction set. */
#define PF_VM_DEFINE(SUF, ATTR)                                                      \
    ATTR PF_VM_MAP(pf_vexp_##SUF, pf_vm_exp(v))                                      \
    ATTR PF_VM_MAP(pf_vsilu_##SUF, pf_vm_xsig(v, 1.0f))                              \
    ATTR PF_VM_MAP(pf_vqgelu_##SUF, pf_vm_xsig(v, 1.702f))                           \
    ATTR PF_VM_MAP(pf_vgelu_##SUF, pf_vm_gelu_tanh(v))                               \
    ATTR static float pf_vexp_sub_sum_##SUF(float *y, const float *x, int64_t n, float m) { \
        float acc[16] = {0};                                                         \
        int64_t i = 0;                                                               \
        for (; i + 16 <= n; i += 16)                                                 \
            for (int l = 0; l < 16; l++) {                                           \
                float e = pf_vm_exp_neg(x[i + l] - m);                               \
                y[i + l] = e;                                                        \
                acc[l] += e;                                                         \
            }                                                                        \
        for (; i < n; i++) {                                                         \
            y[i] = pf_vm_exp_neg(x[i] - m);                                          \
            acc[i & 15] += y[i];                                                     \
        }                                                                            \
        float s = 0.0f;                                                              \
        for (int l = 0; l < 16; l++) s += acc[l];                                    \
        return s;                                                                    \
    }

/* y[i] = exp(x[i] - m[i]) with the softmax exp (per-column maxima of attention's S^T). */
#define PF_VM_DEFINE_SUBV(SUF, ATTR)                                                                     \
    ATTR static void pf_vexp_subv_##SUF(float *y, const float *x, const float *m, int64_t n) {          \
        if (y == x)                                                                                      \
            for (int64_t i = 0; i < n; i++) y[i] = pf_vm_exp_neg(y[i] - m[i]);                          \
        else                                                                                             \
            for (int64_t i = 0; i < n; i++) y[i] = pf_vm_exp_neg(x[i] - m[i]);                          \
    }

PF_VM_DEFINE_SUBV(generic, )
#if PF_CPU_X86
PF_VM_DEFINE_SUBV(avx2, PF_TARGET_AVX2)
PF_VM_DEFINE_SUBV(avx512, PF_TARGET_AVX512)
#endif

PF_VM_DEFINE(generic, )
#if PF_CPU_X86
PF_VM_DEFINE(avx2, PF_TARGET_AVX2)
PF_VM_DEFINE(avx512, PF_TARGET_AVX512)
#define PF_VM_PICK(NAME)                                                                   \
    (pf_cpu_isa_get() == PF_ISA_AVX512 ? NAME##_avx512                                     \
     : pf_cpu_isa_get() == PF_ISA_AVX2 ? NAME##_avx2                                       \
                                       : NAME##_generic)
#else
#define PF_VM_PICK(NAME) NAME##_generic
#endif

void pf_cpu_vexp(float *y, const float *x, int64_t n) { PF_VM_PICK(pf_vexp)(y, x, n); }

float pf_cpu_vexp_sub_sum(float *y, const float *x, int64_t n, float m) { return PF_VM_PICK(pf_vexp_sub_sum)(y, x, n, m); }

void pf_cpu_vexp_subv(float *y, const float *x, const float *m, int64_t n) { PF_VM_PICK(pf_vexp_subv)(y, x, m, n); }

void pf_cpu_vunary(int f, float *y, const float *x, int64_t n) {
    switch (f) {
    case PF_UNARY_SILU: PF_VM_PICK(pf_vsilu)(y, x, n); break;
    case PF_UNARY_GELU_TANH: PF_VM_PICK(pf_vgelu)(y, x, n); break;
    case PF_UNARY_QUICK_GELU: PF_VM_PICK(pf_vqgelu)(y, x, n); break;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = pf_cpu_unary_f(f, x[i]);
        break;
    }
}
