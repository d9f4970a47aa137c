#version 450
// Group norm of x [B, C, T, H, W] with statistics per (b, group, t) over
// (C / G channels, H, W), as the causal VAE's per-frame CausalGroupNorm; optional
// affine and fused SiLU. One workgroup per (group, t, b). Groups reach millions of
// elements at 768p (4 channels x 768 x 1280), so per-invocation partial sums are
// Kahan-compensated before the workgroup reduction (subgroupAdd with PF_SUBGROUP).
// Four elements per loop iteration: lavapipe caps an invocation's loop iterations.
// In-place safe: statistics are complete before any element is written.
#include "pf_common.glsl"
#ifdef PF_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "pf_unary.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TX = 0u;
layout(constant_id = 2) const uint TW = 0u;
layout(constant_id = 3) const uint TBIAS = 0u;
layout(constant_id = 4) const bool HAS_W = false;
layout(constant_id = 5) const bool HAS_B = false;
layout(constant_id = 6) const bool SILU = false;

PF_BINDING(0, D)
PF_BINDING(1, X)
PF_BINDING(2, W)
PF_BINDING(3, Bias)

layout(push_constant) uniform PC {
    uint C, T, HW, cg; // channels, frames, H*W, channels per group
    uint x_off, d_off, w_off, b_off;
    float eps;
} pc;

shared float red[256];

float wg_sum(float v) {
#ifdef PF_SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect()) red[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; i++) s += red[i];
    barrier();
    return s;
#else
    uint lid = gl_LocalInvocationID.x;
    red[lid] = v;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
#endif
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint g = gl_WorkGroupID.x, t = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    uint cnt = pc.cg * pc.HW;
    float fc = float(cnt);
    // element e of the group: channel g*cg + e / HW, pixel e % HW of frame t
    uint ch0 = g * pc.cg;
    // precise: keeps the compiler from reassociating the compensation away
    precise float s = 0.0, comp = 0.0;
    for (uint e0 = lid; e0 < cnt; e0 += 1024u) [[unroll]] for (uint u = 0u; u < 4u; u++) {
        uint e = e0 + 256u * u;
        if (e >= cnt) break;
        uint o = ((b * pc.C + ch0 + e / pc.HW) * pc.T + t) * pc.HW + e % pc.HW;
        precise float y = X_ld(TX, pc.x_off + o) - comp;
        precise float z = s + y;
        comp = (z - s) - y;
        s = z;
    }
    float mean = wg_sum(s) / fc;
    s = 0.0;
    comp = 0.0;
    for (uint e0 = lid; e0 < cnt; e0 += 1024u) [[unroll]] for (uint k = 0u; k < 4u; k++) {
        uint e = e0 + 256u * k;
        if (e >= cnt) break;
        uint o = ((b * pc.C + ch0 + e / pc.HW) * pc.T + t) * pc.HW + e % pc.HW;
        float u = X_ld(TX, pc.x_off + o) - mean;
        precise float y = u * u - comp;
        precise float z = s + y;
        comp = (z - s) - y;
        s = z;
    }
    float inv = 1.0 / sqrt(wg_sum(s) / fc + pc.eps);
    for (uint e0 = lid; e0 < cnt; e0 += 1024u) [[unroll]] for (uint u = 0u; u < 4u; u++) {
        uint e = e0 + 256u * u;
        if (e >= cnt) break;
        uint ch = ch0 + e / pc.HW;
        uint o = ((b * pc.C + ch) * pc.T + t) * pc.HW + e % pc.HW;
        float v = (X_ld(TX, pc.x_off + o) - mean) * inv;
        if (HAS_W) v *= W_ld(TW, pc.w_off + ch);
        if (HAS_B) v += Bias_ld(TBIAS, pc.b_off + ch);
        if (SILU) v = pf_silu(v);
        D_st(TD, pc.d_off + o, v);
    }
}
