#version 450
// Matrix-vector path of linear/matmul for a few rows (M <= 8: timestep and pooled
// embeddings, adaLN modulations with B = 2), where a 64-row GEMM tile would be 97%
// padding. B is [N, K] (weights): one workgroup per output column reads one weight
// row coalesced and keeps M partial dot products per invocation, reduced with
// subgroupAdd when compiled with PF_SUBGROUP, else through shared memory.
#include "pf_common.glsl"
#ifdef PF_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(local_size_x = 128) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TA = 0u;
layout(constant_id = 2) const uint TB = 0u;
layout(constant_id = 3) const uint TBIAS = 0u;
layout(constant_id = 4) const bool HAS_BIAS = false;

PF_BINDING(0, D)
PF_BINDING(1, A)
PF_BINDING(2, Bm)
PF_BINDING(3, Bias)

layout(push_constant) uniform PC {
    uint M, N, K, pad0;
    uint a_off, b_off, d_off, bias_off;
    uint a_bs, b_bs, d_bs;
    float alpha;
} pc;

const uint MAXM = 8u;
// per-invocation partials (shared-memory tree) or per-subgroup sums (PF_SUBGROUP)
shared float red[MAXM][128];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint n = pf_group_linear();
    uint b = gl_WorkGroupID.z;
    if (n >= pc.N) return; // uniform across the workgroup
    uint abase = pc.a_off + b * pc.a_bs, bbase = pc.b_off + b * pc.b_bs + n * pc.K;
    float part[MAXM];
    for (uint r = 0u; r < MAXM; r++) part[r] = 0.0;
    for (uint k = lid; k < pc.K; k += 128u) {
        float w = Bm_ld(TB, bbase + k);
        for (uint r = 0u; r < MAXM; r++)
            if (r < pc.M) part[r] += A_ld(TA, abase + r * pc.K + k) * w;
    }
#ifdef PF_SUBGROUP
    for (uint r = 0u; r < MAXM; r++) {
        float s = subgroupAdd(part[r]);
        if (subgroupElect()) red[r][gl_SubgroupID] = s;
    }
    barrier();
    if (lid < pc.M) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++) s += red[lid][g];
        float v = s * pc.alpha;
        if (HAS_BIAS) v += Bias_ld(TBIAS, pc.bias_off + n);
        D_st(TD, pc.d_off + b * pc.d_bs + lid * pc.N + n, v);
    }
#else
    for (uint r = 0u; r < MAXM; r++) red[r][lid] = part[r];
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (lid < s)
            for (uint r = 0u; r < MAXM; r++) red[r][lid] += red[r][lid + s];
        barrier();
    }
    if (lid < pc.M) {
        float v = red[lid][0] * pc.alpha;
        if (HAS_BIAS) v += Bias_ld(TBIAS, pc.bias_off + n);
        D_st(TD, pc.d_off + b * pc.d_bs + lid * pc.N + n, v);
    }
#endif
}
