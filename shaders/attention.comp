#version 450
// Fused attention, flash style: q [B, Nq, H, D], k [B, Nk, H, D], v [B, Nk, H, Dv]
// -> [B, Nq, H, Dv]. A workgroup owns BR query rows of one (b, h) and walks the keys
// in tiles of BC with an online softmax (running max m and sum l per row, f32), so
// the Nq x Nk score matrix never exists. TPR invocations per row: each scores
// BC / TPR keys of the tile and owns Dv / TPR output columns (acc[] in registers).
// Q stays in shared memory; the K tile and then the V tile share one buffer.
// Masks are parameters (pf_mask_mode): causal, Pyramid Flow's frame mask (per-token
// frame*2+valid metas), T5's key-validity mask, plus an optional f32 bias [H, Nq, Nk].
// Key tiles nobody in the query tile may see are skipped before K/V are loaded: with
// the frame mask that is every later frame's tiles for the early-frame queries.
// A query row that sees no key gives zeros, as the CPU reference.
// Loops whose trip counts are constants are unrolled and the dot products run 16 columns
// per iteration (rows padded with zeros to DKQ - 1, a multiple of 16): lavapipe stops
// every loop of an invocation after 65535 iterations in total, so the iterations per key
// tile bound the keys it can handle (about 60 000 at D = 64, 8 000 at D = 512); the host
// declines what would exceed that there.
#include "pf_common.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;

layout(constant_id = 1) const uint BR = 16u;   // query rows per workgroup
layout(constant_id = 2) const uint BC = 32u;   // keys per tile
layout(constant_id = 3) const uint DKQ = 64u;  // shared row stride of Q (>= D)
layout(constant_id = 4) const uint DKV = 64u;  // shared row stride of K/V (>= max(D, Dv))
layout(constant_id = 5) const uint TPR = 8u;   // invocations per query row
layout(constant_id = 6) const uint ACCN = 8u;  // output columns per invocation (>= Dv / TPR)
layout(constant_id = 7) const uint TQ = 0u;
layout(constant_id = 8) const uint TK = 0u;
layout(constant_id = 9) const uint TV = 0u;
layout(constant_id = 10) const uint TD = 0u;
layout(constant_id = 11) const uint MASK = 0u;
layout(constant_id = 12) const bool HAS_BIAS = false;

const uint MASK_NONE = 0u, MASK_CAUSAL = 1u, MASK_FRAME = 2u, MASK_KEY = 3u;

PF_BINDING(0, O)
PF_BINDING(1, Q)
PF_BINDING(2, K)
PF_BINDING(3, V)
PF_BINDING(4, QM)
PF_BINDING(5, KM)
PF_BINDING(6, Bias)

layout(push_constant) uniform PC {
    uint B, Nq, Nk, H, D, Dv;
    uint q_off, k_off, v_off, o_off, qm_off, km_off, bias_off;
    float scale;
} pc;

shared float sQ[BR * DKQ];
shared float sKV[BC * DKV];
shared float sP[BR * BC];
shared int sQM[BR];
shared int sKM[BC];
shared uint sAny;

bool allowed(uint i, uint j, int qm, int km) {
    if (MASK == MASK_CAUSAL) return j <= i;
    if (MASK == MASK_FRAME) return ((qm & 1) == (km & 1)) && ((qm >> 1) >= (km >> 1));
    if (MASK == MASK_KEY) return (km & 1) != 0;
    return true;
}

const uint DQP = DKQ - 1u;            // padded q/k row (multiple of 16, >= D)
const uint DVP = DKV - 1u;            // padded k/v row (multiple of 16, >= max(D, Dv))
const uint KPT = (BC + TPR - 1u) / TPR; // keys scored per invocation and tile

void main() {
    const uint WG = BR * TPR;
    uint lid = gl_LocalInvocationID.x;
    uint r = lid / TPR, t = lid % TPR;
    uint q0 = gl_WorkGroupID.x * BR, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    uint i = q0 + r;
    bool rowok = i < pc.Nq;
    uint D = pc.D, Dv = pc.Dv;

    // Q tile, zero-padded to DQP columns; 4 consecutive columns per iteration
    for (uint e = 4u * lid; e < BR * DQP; e += 4u * WG) {
        uint rr = e / DQP, c = e % DQP, ii = q0 + rr;
        uint base = pc.q_off + ((b * pc.Nq + ii) * pc.H + h) * D;
        [[unroll]] for (uint u = 0u; u < 4u; u++)
            sQ[rr * DKQ + c + u] = ii < pc.Nq && c + u < D ? Q_ld(TQ, base + c + u) : 0.0;
    }
    if (MASK == MASK_FRAME && lid < BR)
        sQM[lid] = q0 + lid < pc.Nq ? int(QM_u[pc.qm_off + b * pc.Nq + q0 + lid]) : 0;

    float m = PF_NEG, l = 0.0;
    float acc[ACCN];
    for (uint a = 0u; a < ACCN; a++) acc[a] = 0.0;
    // causal: keys after the tile's last query are never seen
    uint kend = MASK == MASK_CAUSAL ? min(pc.Nk, q0 + BR) : pc.Nk;
    barrier();
    int qmi = MASK == MASK_FRAME ? sQM[r] : 0;

    for (uint k0 = 0u; k0 < kend; k0 += BC) {
        if (MASK == MASK_FRAME || MASK == MASK_KEY) {
            if (lid == 0u) sAny = 0u;
            if (lid < BC) sKM[lid] = k0 + lid < pc.Nk ? int(KM_u[pc.km_off + b * pc.Nk + k0 + lid]) : 0;
            barrier();
            [[unroll]] for (uint u = 0u; u < (BR * BC + WG - 1u) / WG; u++) {
                uint p = lid + u * WG, pr = p / BC, pj = p % BC;
                if (p < BR * BC && q0 + pr < pc.Nq && k0 + pj < pc.Nk && allowed(q0 + pr, k0 + pj, sQM[pr], sKM[pj]))
                    sAny = 1u;
            }
            barrier();
            bool any = sAny != 0u;
            barrier(); // all have read sAny before it is reset for the next tile
            if (!any) continue;
        }
        for (uint e = 4u * lid; e < BC * DVP; e += 4u * WG) { // K tile, zero-padded
            uint jj = e / DVP, c = e % DVP, j = k0 + jj;
            uint base = pc.k_off + ((b * pc.Nk + j) * pc.H + h) * D;
            [[unroll]] for (uint u = 0u; u < 4u; u++)
                sKV[jj * DKV + c + u] = j < pc.Nk && c + u < D ? K_ld(TK, base + c + u) : 0.0;
        }
        barrier();
        [[unroll]] for (uint u = 0u; u < KPT; u++) {
            uint jj = t + u * TPR, j = k0 + jj;
            if (jj >= BC) break;
            float s = PF_NEG;
            if (rowok && j < pc.Nk && allowed(i, j, qmi, sKM[jj])) {
                float dot = 0.0;
                for (uint c = 0u; c < DQP; c += 16u) // the padding adds zeros
                    [[unroll]] for (uint w = 0u; w < 16u; w++) dot += sQ[r * DKQ + c + w] * sKV[jj * DKV + c + w];
                s = dot * pc.scale;
                if (HAS_BIAS) s += Bias_f[pc.bias_off + (h * pc.Nq + i) * pc.Nk + j];
            }
            sP[r * BC + jj] = s;
        }
        barrier();
        float mt = PF_NEG;
        [[unroll]] for (uint jj = 0u; jj < BC; jj++) mt = max(mt, sP[r * BC + jj]);
        float mnew = max(m, mt);
        barrier(); // the row is read by all its invocations before it is overwritten
        [[unroll]] for (uint u = 0u; u < KPT; u++) {
            uint jj = t + u * TPR;
            if (jj >= BC) break;
            float s = sP[r * BC + jj];
            sP[r * BC + jj] = s <= 0.5 * PF_NEG ? 0.0 : exp(s - mnew);
        }
        for (uint e = 4u * lid; e < BC * DVP; e += 4u * WG) { // V tile over the K tile
            uint jj = e / DVP, c = e % DVP, j = k0 + jj;
            uint base = pc.v_off + ((b * pc.Nk + j) * pc.H + h) * Dv;
            [[unroll]] for (uint u = 0u; u < 4u; u++)
                sKV[jj * DKV + c + u] = j < pc.Nk && c + u < Dv ? V_ld(TV, base + c + u) : 0.0;
        }
        barrier();
        float alpha = m <= 0.5 * PF_NEG ? 0.0 : exp(m - mnew);
        float ps = 0.0;
        [[unroll]] for (uint jj = 0u; jj < BC; jj++) ps += sP[r * BC + jj];
        l = l * alpha + ps;
        // not unrolled: unrolling it too would multiply the pipeline's code by ACCN
        [[dont_unroll]] for (uint a = 0u; a < ACCN; a++) {
            uint e = t + TPR * a;
            if (e >= Dv) break;
            float v = acc[a] * alpha;
            [[unroll]] for (uint jj = 0u; jj < BC; jj++) v += sP[r * BC + jj] * sKV[jj * DKV + e];
            acc[a] = v;
        }
        m = mnew;
        barrier(); // before the next tile overwrites sKV / sP
    }
    if (!rowok) return;
    for (uint a = 0u; a < ACCN; a++) {
        uint e = t + TPR * a;
        if (e >= Dv) break;
        O_st(TD, pc.o_off + ((b * pc.Nq + i) * pc.H + h) * Dv + e, l > 0.0 ? acc[a] / l : 0.0);
    }
}
