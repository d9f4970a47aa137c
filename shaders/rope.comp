#version 450
// RoPE on interleaved pairs: x [B, N, H, D], table f32 [N, D/2, 2] of (cos, sin);
// (x0, x1) -> (x0 c - x1 s, x0 s + x1 c). One invocation per pair; it reads both
// elements before writing them, so dst may alias x (in-place).
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TX = 0u;

PF_BINDING(0, D)
PF_BINDING(1, X)
PF_BINDING(2, Tab)

layout(push_constant) uniform PC {
    uint n_pairs, N, H, P; // P = D / 2
    uint x_off, t_off, d_off;
} pc;

void main() {
    uint i = pf_group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= pc.n_pairs) return;
    uint j = i % pc.P;
    uint tok = (i / (pc.P * pc.H)) % pc.N;
    float x0 = X_ld(TX, pc.x_off + 2u * i), x1 = X_ld(TX, pc.x_off + 2u * i + 1u);
    float c = Tab_f[pc.t_off + (tok * pc.P + j) * 2u], s = Tab_f[pc.t_off + (tok * pc.P + j) * 2u + 1u];
    precise float a = x0 * c, bb = x1 * s, cc = x0 * s, dd = x1 * c;
    precise float y0 = a - bb, y1 = cc + dd;
    D_st(TD, pc.d_off + 2u * i, y0);
    D_st(TD, pc.d_off + 2u * i + 1u, y1);
}
