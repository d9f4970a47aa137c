#version 450
// Row-wise reductions over the last dim: layer norm (MODE 0), RMS norm (MODE 1),
// softmax (MODE 2). TPR invocations share a row (a power of two the host picks from
// the row length: 16 for the 64-wide qk-norm rows, 256 for 4096-wide T5 rows), so a
// workgroup of 256 covers 256 / TPR rows. Statistics in f32, two passes for the
// variance; every pass reads the whole row before the final pass writes it, so dst
// may alias x (in-place).
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint MODE = 0u;
layout(constant_id = 1) const uint TPR = 256u;
layout(constant_id = 2) const uint TD = 0u;
layout(constant_id = 3) const uint TX = 0u;
layout(constant_id = 4) const uint TW = 0u;
layout(constant_id = 5) const uint TBIAS = 0u;
layout(constant_id = 6) const bool HAS_W = false;
layout(constant_id = 7) const bool HAS_B = false;

PF_BINDING(0, D)
PF_BINDING(1, X)
PF_BINDING(2, W)
PF_BINDING(3, Bias)

layout(push_constant) uniform PC {
    uint rows, len;
    uint x_off, d_off, w_off, b_off;
    float p0; // eps (norms) or the logit scale (softmax)
} pc;

shared float red[256];

// Sum / max over the TPR invocations of this row (lane t of invocation lid); every
// invocation gets the result.
float seg_sum(float v, uint lid, uint t) {
    red[lid] = v;
    barrier();
    for (uint s = TPR / 2u; s > 0u; s >>= 1) {
        if (t < s) red[lid] += red[lid + s];
        barrier();
    }
    float r = red[lid - t];
    barrier();
    return r;
}

float seg_max(float v, uint lid, uint t) {
    red[lid] = v;
    barrier();
    for (uint s = TPR / 2u; s > 0u; s >>= 1) {
        if (t < s) red[lid] = max(red[lid], red[lid + s]);
        barrier();
    }
    float r = red[lid - t];
    barrier();
    return r;
}

void main() {
    uint lid = gl_LocalInvocationID.x, t = lid % TPR;
    uint row = pf_group_linear() * (256u / TPR) + lid / TPR;
    bool ok = row < pc.rows;        // out-of-range rows still join the reductions
    uint len = ok ? pc.len : 0u;
    uint xb = pc.x_off + row * pc.len, db = pc.d_off + row * pc.len;
    float fl = float(pc.len);

    if (MODE == 2u) {
        float mx = PF_NEG;
        for (uint i = t; i < len; i += TPR) mx = max(mx, pc.p0 * X_ld(TX, xb + i));
        mx = seg_max(mx, lid, t);
        float s = 0.0;
        for (uint i = t; i < len; i += TPR) s += exp(pc.p0 * X_ld(TX, xb + i) - mx);
        s = seg_sum(s, lid, t);
        for (uint i = t; i < len; i += TPR) D_st(TD, db + i, exp(pc.p0 * X_ld(TX, xb + i) - mx) / s);
        return;
    }
    float mean = 0.0;
    if (MODE == 0u) {
        float s = 0.0;
        for (uint i = t; i < len; i += TPR) s += X_ld(TX, xb + i);
        mean = seg_sum(s, lid, t) / fl;
    }
    float q = 0.0;
    for (uint i = t; i < len; i += TPR) {
        float u = X_ld(TX, xb + i) - mean;
        q += u * u;
    }
    q = seg_sum(q, lid, t) / fl;
    float inv = 1.0 / sqrt(q + pc.p0);
    for (uint i = t; i < len; i += TPR) {
        float v = (X_ld(TX, xb + i) - mean) * inv;
        if (HAS_W) v *= W_ld(TW, pc.w_off + i);
        if (HAS_B) v += Bias_ld(TBIAS, pc.b_off + i);
        D_st(TD, db + i, v);
    }
}
