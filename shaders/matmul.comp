#version 450
// Tiled GEMM for linear and matmul: D[b] = alpha * A[b] (M x K) * B[b]' (+ bias[n]),
// B' = B^T when TRANS_B (B stored [N, K]: linear weights, q k^T) else B ([K, N]).
// A 64 x 64 output tile per workgroup of 256 invocations (4 x 4 outputs each,
// strided by 16 so stores coalesce), K in steps of 16 through shared memory.
// Operands are f32, bf16 or f16 in storage, converted on load; accumulation is f32.
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TA = 0u;
layout(constant_id = 2) const uint TB = 0u;
layout(constant_id = 3) const uint TBIAS = 0u;
layout(constant_id = 4) const bool TRANS_B = true;
layout(constant_id = 5) const bool HAS_BIAS = false;

PF_BINDING(0, D)
PF_BINDING(1, A)
PF_BINDING(2, Bm)
PF_BINDING(3, Bias)

layout(push_constant) uniform PC {
    uint M, N, K, pad0;
    uint a_off, b_off, d_off, bias_off; // element offsets
    uint a_bs, b_bs, d_bs;              // batch strides (b_bs 0: B broadcast)
    float alpha;
} pc;

const uint BM = 64u, BN = 64u, BK = 16u;
// +1 column of padding breaks shared-memory bank conflicts of the transposed stores
shared float As[BK][BM + 1u];
shared float Bs[BK][BN + 1u];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % 16u, ty = lid / 16u;
    uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM, b = gl_WorkGroupID.z;
    uint abase = pc.a_off + b * pc.a_bs, bbase = pc.b_off + b * pc.b_bs, dbase = pc.d_off + b * pc.d_bs;
    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
        for (uint q = 0u; q < 4u; q++) {
            uint e = lid + 256u * q;
            // A tile: 64 rows x 16 k, k fastest (coalesced along a row of A)
            uint r = e / BK, c = e % BK;
            uint gm = m0 + r, gk = k0 + c;
            As[c][r] = (gm < pc.M && gk < pc.K) ? A_ld(TA, abase + gm * pc.K + gk) : 0.0;
            if (TRANS_B) { // B [N, K]: k fastest
                uint gn = n0 + r;
                Bs[c][r] = (gn < pc.N && gk < pc.K) ? Bm_ld(TB, bbase + gn * pc.K + gk) : 0.0;
            } else {       // B [K, N]: n fastest
                uint kk = e / BN, nn = e % BN;
                uint gk2 = k0 + kk, gn = n0 + nn;
                Bs[kk][nn] = (gn < pc.N && gk2 < pc.K) ? Bm_ld(TB, bbase + gk2 * pc.N + gn) : 0.0;
            }
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
        uint m = m0 + ty + 16u * i;
        if (m >= pc.M) continue;
        for (uint j = 0u; j < 4u; j++) {
            uint n = n0 + tx + 16u * j;
            if (n >= pc.N) continue;
            float v = acc[i][j] * pc.alpha;
            if (HAS_BIAS) v += Bias_ld(TBIAS, pc.bias_off + n);
            D_st(TD, dbase + m * pc.N + n, v);
        }
    }
}
