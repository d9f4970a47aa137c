/*
 * Vectorised f32 math over arrays for the fast CPU kernels: exp and the
 * activations built on it. Accuracy: exp within 2 ulp of the correctly rounded
 * result over its whole range (results below FLT_MIN flush through the normal
 * path to denormals or zero, +-inf and NaN behave as expf); the activations
 * within a few ulp of the reference formulas. No table lookups, no fast-math.
 * Each function picks its instruction-set variant at run time (cpu_simd.h).
 * y may equal x (in place).
 */
#ifndef PF_CPU_VMATH_H
#define PF_CPU_VMATH_H

#include <stdint.h>

/* y[i] = exp(x[i]) */
void pf_cpu_vexp(float *y, const float *x, int64_t n);
/* y[i] = exp(x[i] - m); returns the sum of the y[i] (f32, 16 partial sums). Meant for
 * softmax (m >= every x[i]): results below FLT_MIN are flushed to 0. */
float pf_cpu_vexp_sub_sum(float *y, const float *x, int64_t n, float m);
/* y[i] = exp(x[i] - m[i]), the same exp as pf_cpu_vexp_sub_sum (m[i] >= x[i]). */
void pf_cpu_vexp_subv(float *y, const float *x, const float *m, int64_t n);
/* y[i] = f(x[i]) for f a pf_unary (silu, gelu tanh, gelu erf, quick gelu). */
void pf_cpu_vunary(int f, float *y, const float *x, int64_t n);

#endif /* PF_CPU_VMATH_H */
