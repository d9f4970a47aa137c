#version 450
// Causal conv3d as an implicit GEMM: out[b] (Co x To*Ho*Wo) = W (Co x Ci*kt*kh*kw)
// times the im2col matrix of x[b], whose tiles are gathered straight from x (never
// materialised, which is what keeps the VAE's memory down). Temporal padding is
// pad_t frames in front, taken from the causal cache `front` [B, Ci, pad_t, H, W]
// when bound or zeros; spatial padding is zeros on both sides; strides (st, sh, sw).
// Tiles: 16*TM output channels x 16*TN output positions per workgroup of 256 (TM x TN
// outputs per invocation), K in steps of 16 through shared memory, f32 accumulation.
// With at most 16 output channels (the RGB output conv, small models) channel tiles would
// be mostly padding, so DIRECT computes one output position per invocation for all
// channels instead: each gathered input feeds every channel from weights in shared memory.
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TX = 0u;
layout(constant_id = 2) const uint TW = 0u;
layout(constant_id = 3) const uint TBIAS = 0u;
layout(constant_id = 4) const bool HAS_BIAS = false;
layout(constant_id = 5) const bool HAS_FRONT = false;
layout(constant_id = 6) const uint TM = 4u; // output channels per invocation
layout(constant_id = 7) const uint TN = 4u; // output positions per invocation
layout(constant_id = 8) const bool DIRECT = false;
layout(constant_id = 9) const uint DCO = 16u; // direct path: channels rounded up (4, 8 or 16)

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

const uint BM = 16u * TM, BN = 16u * TN, BK = 16u;
shared float As[BK][BM + 1u];
shared float Bs[BK][BN + 1u];
// the K tile's kernel taps, decoded once: (input channel, dt, dh, dw); ci < 0 past K
shared ivec4 sTap[BK];

layout(constant_id = 10) const uint WCAP = 1u; // direct path: weights in shared memory (floats)
shared float sW[WCAP];

// Direct path: the weights of a slice of input channels (all taps, DCO output channels)
// sit in shared memory; the loops run over taps row by row, so the bounds of a kernel
// row and its input address are worked out once per row, not per tap.
void direct_main() {
    uint lid = gl_LocalInvocationID.x, b = gl_WorkGroupID.z;
    uint khw = pc.kh * pc.kw, kvol = pc.kt * khw, K = pc.Ci * kvol;
    uint HoWo = pc.Ho * pc.Wo, N = pc.To * HoWo, HW = pc.H * pc.W;
    uint n = pf_group_linear() * 256u + lid;
    bool n_ok = n < N;
    uint to = n / HoWo, pix = n % HoWo;
    int t_base = int(to * pc.st) - int(pc.pt); // negative: the front cache / zero padding
    int h_base = int((pix / pc.Wo) * pc.sh) - int(pc.ph);
    int w_base = int((pix % pc.Wo) * pc.sw) - int(pc.pw);
    float acc[DCO];
    for (uint co = 0u; co < DCO; co++) acc[co] = 0.0;
    uint cis = max(1u, WCAP / (DCO * kvol)); // input channels per weight slice (host: DCO * kvol <= WCAP)
    for (uint ci0 = 0u; ci0 < pc.Ci; ci0 += cis) {
        uint nci = min(cis, pc.Ci - ci0), kch = nci * kvol;
        for (uint e = lid; e < DCO * kch; e += 256u) {
            uint co = e / kch, kk = e % kch;
            sW[e] = co < pc.Co ? Wt_ld(TW, pc.w_off + co * K + ci0 * kvol + kk) : 0.0;
        }
        barrier();
        for (uint cl = 0u; cl < nci && n_ok; cl++) {
            uint ci = ci0 + cl;
            for (uint a = 0u; a < pc.kt; a++) {
                int tt = t_base + int(a);
                if (tt < 0 && !HAS_FRONT) continue; // zero padding in front
                uint plane = tt < 0 ? pc.f_off + ((b * pc.Ci + ci) * pc.pt + uint(tt + int(pc.pt))) * HW
                                    : pc.x_off + ((b * pc.Ci + ci) * pc.T + uint(tt)) * HW;
                for (uint ke = 0u; ke < pc.kh; ke++) {
                    int hi = h_base + int(ke);
                    if (hi < 0 || hi >= int(pc.H)) continue;
                    uint row = plane + uint(hi) * pc.W;
                    uint tap = (cl * pc.kt + a) * khw + ke * pc.kw;
                    for (uint kf = 0u; kf < pc.kw; kf++) {
                        int wi = w_base + int(kf);
                        if (wi < 0 || wi >= int(pc.W)) continue;
                        float v = tt < 0 ? F_ld(TX, row + uint(wi)) : X_ld(TX, row + uint(wi));
                        for (uint co = 0u; co < DCO; co++) acc[co] += sW[co * kch + tap + kf] * v;
                    }
                }
            }
        }
        barrier(); // before the next slice overwrites sW
    }
    if (!n_ok) return;
    for (uint co = 0u; co < DCO; co++) {
        if (co >= pc.Co) break;
        float bias = HAS_BIAS ? Bias_ld(TBIAS, pc.b_off + co) : 0.0;
        D_st(TD, pc.d_off + (b * pc.Co + co) * N + n, acc[co] + bias);
    }
}

void main() {
    if (DIRECT) {
        direct_main();
        return;
    }
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
    float acc[TM][TN];
    for (uint i = 0u; i < TM; i++)
        for (uint j = 0u; j < TN; j++) acc[i][j] = 0.0;

    // The im2col column this invocation gathers is the same for every K tile (256 is a
    // multiple of BN): decode its output position once, so the gather below needs no
    // integer division.
    uint nn = lid % BN, n = n0 + nn;
    bool n_ok = n < N;
    uint to = n / HoWo, pix = n % HoWo;
    int t_base = int(to * pc.st);
    int h_base = int((pix / pc.Wo) * pc.sh) - int(pc.ph);
    int w_base = int((pix % pc.Wo) * pc.sw) - int(pc.pw);

    for (uint k0 = 0u; k0 < K; k0 += BK) {
        if (lid < BK) {
            uint k = k0 + lid;
            uint rem = k % kvol, ef = rem % khw;
            sTap[lid] = k < K ? ivec4(int(k / kvol), int(rem / khw), int(ef / pc.kw), int(ef % pc.kw)) : ivec4(-1);
        }
        barrier();
        for (uint q = 0u; q < TM; q++) { // weight tile: BM x BK, k fastest
            uint e = lid + 256u * q;
            uint r = e / BK, c = e % BK;
            uint gm = m0 + r, gk = k0 + c;
            As[c][r] = (gm < pc.Co && gk < K) ? Wt_ld(TW, pc.w_off + gm * K + gk) : 0.0;
        }
        for (uint q = 0u; q < TN; q++) {
            // im2col element (k, n): n fastest so neighbouring invocations read
            // neighbouring pixels of one input row
            uint kk = lid / BN + q * (256u / BN);
            ivec4 tap = sTap[kk];
            float v = 0.0;
            int hi = h_base + tap.z, wi = w_base + tap.w;
            if (tap.x >= 0 && n_ok && hi >= 0 && hi < int(pc.H) && wi >= 0 && wi < int(pc.W)) {
                uint ci = uint(tap.x), tp = uint(t_base + tap.y); // time index in the front-padded input
                uint pix_in = uint(hi) * pc.W + uint(wi);
                if (tp < pc.pt) {
                    if (HAS_FRONT) v = F_ld(TX, pc.f_off + ((b * pc.Ci + ci) * pc.pt + tp) * HW + pix_in);
                } else {
                    v = X_ld(TX, pc.x_off + ((b * pc.Ci + ci) * pc.T + (tp - pc.pt)) * HW + pix_in);
                }
            }
            Bs[kk][nn] = v;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[TM], bv[TN];
            for (uint i = 0u; i < TM; i++) a[i] = As[kk][ty + 16u * i];
            for (uint j = 0u; j < TN; j++) bv[j] = Bs[kk][tx + 16u * j];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++) acc[i][j] += a[i] * bv[j];
        }
        barrier(); // before the next K tile overwrites sTap, As and Bs
    }
    for (uint i = 0u; i < TM; i++) {
        uint co = m0 + ty + 16u * i;
        if (co >= pc.Co) continue;
        float bias = HAS_BIAS ? Bias_ld(TBIAS, pc.b_off + co) : 0.0;
        for (uint j = 0u; j < TN; j++) {
            uint n = n0 + tx + 16u * j;
            if (n >= N) continue;
            D_st(TD, pc.d_off + (b * pc.Co + co) * N + n, acc[i][j] + bias);
        }
    }
}
