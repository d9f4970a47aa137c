#version 450
// Causal conv3d as an implicit GEMM: out[b] (Co x To*Ho*Wo) = W (Co x Ci*kt*kh*kw)
// times the im2col matrix of x[b], whose tiles are gathered straight from x (never
// materialised, which is what keeps the VAE's memory down). Temporal padding is
// pad_t frames in front, taken from the causal cache `front` [B, Ci, pad_t, H, W]
// when bound or zeros; spatial padding is zeros on both sides; strides (st, sh, sw).
// Tiles as the GEMM: 64 output channels x 64 output positions per workgroup of 256,
// K in steps of 16 through shared memory, f32 accumulation.
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TX = 0u;
layout(constant_id = 2) const uint TW = 0u;
layout(constant_id = 3) const uint TBIAS = 0u;
layout(constant_id = 4) const bool HAS_BIAS = false;
layout(constant_id = 5) const bool HAS_FRONT = false;

PF_BINDING(0, D)
PF_BINDING(1, X)
PF_BINDING(2, Wt)
PF_BINDING(3, Bias)
PF_BINDING(4, F)

layout(push_constant) uniform PC {
    uint Ci, T, H, W;
    uint Co, To, Ho, Wo;
    uint kt, kh, kw, pt;
    uint ph, pw, st, sh;
    uint sw, x_off, w_off, b_off;
    uint f_off, d_off, n_tiles; // n_tiles: output-position tiles (x of the linear group id)
} pc;

const uint BM = 64u, BN = 64u, BK = 16u;
shared float As[BK][BM + 1u];
shared float Bs[BK][BN + 1u];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % 16u, ty = lid / 16u;
    // 768p frames have more position tiles than one dispatch dimension allows, so the
    // host spreads (position tile, channel tile) over x and y
    uint lin = pf_group_linear();
    uint n0 = (lin % pc.n_tiles) * BN, m0 = (lin / pc.n_tiles) * BM, b = gl_WorkGroupID.z;
    if (m0 >= pc.Co) return; // padding groups of the x/y split (uniform per workgroup)
    uint khw = pc.kh * pc.kw, kvol = pc.kt * khw;
    uint K = pc.Ci * kvol;
    uint HoWo = pc.Ho * pc.Wo, N = pc.To * HoWo;
    uint HW = pc.H * pc.W;
    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < K; k0 += BK) {
        for (uint q = 0u; q < 4u; q++) {
            uint e = lid + 256u * q;
            uint r = e / BK, c = e % BK;
            uint gm = m0 + r, gk = k0 + c;
            As[c][r] = (gm < pc.Co && gk < K) ? Wt_ld(TW, pc.w_off + gm * K + gk) : 0.0;
            // im2col element (k, n): n fastest so neighbouring invocations read
            // neighbouring pixels of one input row
            uint kk = e / BN, nn = e % BN;
            uint k = k0 + kk, n = n0 + nn;
            float v = 0.0;
            if (k < K && n < N) {
                uint ci = k / kvol, rem = k % kvol;
                uint a = rem / khw, ef = rem % khw;
                uint ke = ef / pc.kw, kf = ef % pc.kw;
                uint to = n / HoWo, pix = n % HoWo;
                uint ho = pix / pc.Wo, wo = pix % pc.Wo;
                uint tp = to * pc.st + a; // time index in the front-padded input
                int hi = int(ho * pc.sh + ke) - int(pc.ph);
                int wi = int(wo * pc.sw + kf) - int(pc.pw);
                if (hi >= 0 && hi < int(pc.H) && wi >= 0 && wi < int(pc.W)) {
                    uint pix_in = uint(hi) * pc.W + uint(wi);
                    if (tp < pc.pt) {
                        if (HAS_FRONT) v = F_ld(TX, pc.f_off + ((b * pc.Ci + ci) * pc.pt + tp) * HW + pix_in);
                    } else {
                        v = X_ld(TX, pc.x_off + ((b * pc.Ci + ci) * pc.T + (tp - pc.pt)) * HW + pix_in);
                    }
                }
            }
            Bs[kk][nn] = v;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[4], bv[4];
            for (uint i = 0u; i < 4u; i++) a[i] = As[kk][ty + 16u * i];
            for (uint j = 0u; j < 4u; j++) bv[j] = Bs[kk][tx + 16u * j];
            for (uint i = 0u; i < 4u; i++)
                for (uint j = 0u; j < 4u; j++) acc[i][j] += a[i] * bv[j];
        }
        barrier();
    }
    for (uint i = 0u; i < 4u; i++) {
        uint co = m0 + ty + 16u * i;
        if (co >= pc.Co) continue;
        float bias = HAS_BIAS ? Bias_ld(TBIAS, pc.b_off + co) : 0.0;
        for (uint j = 0u; j < 4u; j++) {
            uint n = n0 + tx + 16u * j;
            if (n >= N) continue;
            D_st(TD, pc.d_off + (b * pc.Co + co) * N + n, acc[i][j] + bias);
        }
    }
}
