// Activation functions with the CPU reference's formulas (backends/cpu/cpu_ops.h).
// GLSL has no erf, and tanh built from exp overflows to inf/inf = NaN for large
// |x| on some drivers, so both are written out here in overflow-safe forms.

const uint PF_UNARY_SILU = 0u, PF_UNARY_GELU_TANH = 1u, PF_UNARY_GELU_ERF = 2u, PF_UNARY_QUICK_GELU = 3u;

float pf_silu(float x) { return x / (1.0 + exp(-x)); }

float pf_tanh(float x) {
    float e = exp(-2.0 * abs(x)); // in (0, 1]: never overflows
    float t = (1.0 - e) / (1.0 + e);
    return x < 0.0 ? -t : t;
}

// erf with |error| < 1.2e-7 everywhere (Numerical Recipes' erfc Chebyshev fit),
// accurate enough for an f32 GELU.
float pf_erf(float x) {
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float p = -z * z - 1.26551223 +
              t * (1.00002368 +
              t * (0.37409196 +
              t * (0.09678418 +
              t * (-0.18628806 +
              t * (0.27886807 +
              t * (-1.13520398 +
              t * (1.48851587 +
              t * (-0.82215223 +
              t * 0.17087277))))))));
    float erfc_z = t * exp(p);
    float r = 1.0 - erfc_z;
    return x < 0.0 ? -r : r;
}

float pf_unary(uint f, float x) {
    if (f == PF_UNARY_SILU) return pf_silu(x);
    if (f == PF_UNARY_GELU_TANH) {
        const float k = 0.7978845608028654; // sqrt(2/pi)
        return 0.5 * x * (1.0 + pf_tanh(k * (x + 0.044715 * x * x * x)));
    }
    if (f == PF_UNARY_GELU_ERF) return 0.5 * x * (1.0 + pf_erf(x * 0.7071067811865476));
    if (f == PF_UNARY_QUICK_GELU) return x / (1.0 + exp(-1.702 * x));
    return x;
}
