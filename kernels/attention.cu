/*
 * Fused masked attention: o = softmax(scale * q k^T + bias, mask) v, never
 * materialising the [Nq, Nk] score matrix (flash-attention's online softmax).
 *
 * Layout: q [B, Nq, H, D], k [B, Nk, H, D], v [B, Nk, H, Dv], o [B, Nq, H, Dv]
 * (the order the model's linear layers produce, so no permute copies). Masks are
 * parameters, as in cpu_ref_attention.c:
 *   NONE    every key;
 *   CAUSAL  key j <= query i (CLIP);
 *   FRAME   valid(q) == valid(k) && frame(q) >= frame(k), meta = frame*2 + valid
 *           per batch and token (Pyramid Flow);
 *   KEY     valid(k) (T5), plus the optional additive bias [H, Nq, Nk].
 * A query row that sees no key at all gives zeros.
 *
 * Design (correctness first; the speed work comes later): one block of 128
 * threads per (query tile, head, batch). The block stages its BQ queries, then
 * for each tile of BK keys stages K and V, computes the BQ x BK scores (masked
 * ones are -inf), updates the per-row running max m, denominator l and the
 * accumulator acc[BQ, Dv] (rescaled by exp(m_old - m_new)), all f32 in shared
 * memory. Tiles are picked on the host so everything fits the 48 KB of shared
 * memory any block may use: BQ = BK = 32 at D = 64 down to 4 x 4 at D = 512 (the
 * VAE's single 512-wide head). Scores use f32 dot products over D.
 */
#include "pf_cuda_common.cuh"

#define PF_ATTN_THREADS 128
#define PF_ATTN_SMEM_LIMIT (48 * 1024)

static size_t pf_attn_smem_floats(int64_t D, int64_t Dv, int bq, int bk) {
    /* Q [bq, D], K [bk, D], V [bk, Dv], S [bq, bk], acc [bq, Dv], m, l, corr [bq] */
    return (size_t)bq * D + (size_t)bk * D + (size_t)bk * Dv + (size_t)bq * bk + (size_t)bq * Dv + 3u * (size_t)bq;
}

extern "C" int pf_cu_attention_tiles(int64_t D, int64_t Dv, int *bq, int *bk, size_t *smem_bytes) {
    int q = 32, k = 64;
    if (D <= 0 || Dv <= 0 || D > 4096 || Dv > 4096) return 0;
    while (pf_attn_smem_floats(D, Dv, q, k) * sizeof(float) > PF_ATTN_SMEM_LIMIT) {
        if (q == 1 && k == 1) return 0;
        if (k > q)
            k /= 2;
        else
            q /= 2;
    }
    *bq = q;
    *bk = k;
    *smem_bytes = pf_attn_smem_floats(D, Dv, q, k) * sizeof(float);
    return 1;
}

__global__ void __launch_bounds__(PF_ATTN_THREADS) pf_k_attention(pf_cu_attn_args a, int BQ, int BK) {
    extern __shared__ float sm[];
    const int64_t D = a.D, Dv = a.Dv, H = a.H, Nq = a.Nq, Nk = a.Nk;
    float *Qs = sm;           /* [BQ, D] */
    float *Ks = Qs + BQ * D;  /* [BK, D] */
    float *Vs = Ks + BK * D;  /* [BK, Dv] */
    float *S = Vs + BK * Dv;  /* [BQ, BK] scores, then probabilities */
    float *Acc = S + BQ * BK; /* [BQ, Dv] */
    float *M = Acc + BQ * Dv; /* [BQ] running max */
    float *L = M + BQ;        /* [BQ] running denominator */
    float *Cr = L + BQ;       /* [BQ] rescale factor of this key tile */

    const int tid = threadIdx.x, nthr = blockDim.x, lane = tid & 31, warp = tid >> 5, nwarps = nthr >> 5;
    const int64_t h = blockIdx.y, b = blockIdx.z, q0 = (int64_t)blockIdx.x * BQ;
    const int32_t *qm = a.q_meta ? a.q_meta + b * Nq : NULL;
    const int32_t *km = a.k_meta ? a.k_meta + b * Nk : NULL;

    for (int64_t t = tid; t < (int64_t)BQ * D; t += nthr) {
        const int64_t i = t / D, e = t % D, qi = q0 + i;
        Qs[t] = qi < Nq ? pf_cu_ld(a.q, a.q_dtype, ((b * Nq + qi) * H + h) * D + e) : 0.0f;
    }
    for (int64_t t = tid; t < (int64_t)BQ * Dv; t += nthr) Acc[t] = 0.0f;
    for (int i = tid; i < BQ; i += nthr) {
        M[i] = -INFINITY;
        L[i] = 0.0f;
    }
    const int64_t q_last = (q0 + BQ < Nq ? q0 + BQ : Nq) - 1;

    for (int64_t k0 = 0; k0 < Nk; k0 += BK) {
        if (a.mode == 1 && k0 > q_last) break; /* causal: no query of this tile sees these keys */
        __syncthreads(); /* the previous tile's K, V, S are no longer read; initial stores visible */
        for (int64_t t = tid; t < (int64_t)BK * D; t += nthr) {
            const int64_t j = t / D, e = t % D, kj = k0 + j;
            Ks[t] = kj < Nk ? pf_cu_ld(a.k, a.k_dtype, ((b * Nk + kj) * H + h) * D + e) : 0.0f;
        }
        for (int64_t t = tid; t < (int64_t)BK * Dv; t += nthr) {
            const int64_t j = t / Dv, e = t % Dv, kj = k0 + j;
            Vs[t] = kj < Nk ? pf_cu_ld(a.v, a.v_dtype, ((b * Nk + kj) * H + h) * Dv + e) : 0.0f;
        }
        __syncthreads();

        /* scores; masked and out-of-range entries are -inf */
        for (int t = tid; t < BQ * BK; t += nthr) {
            const int i = t / BK, j = t % BK;
            const int64_t qi = q0 + i, kj = k0 + j;
            float s = -INFINITY;
            if (qi < Nq && kj < Nk && pf_cu_mask_allows(a.mode, qi, kj, qm, km)) {
                const float *qr = Qs + (int64_t)i * D, *kr = Ks + (int64_t)j * D;
                float dot = 0.0f;
                for (int64_t e = 0; e < D; e++) dot += qr[e] * kr[e];
                s = dot * a.scale;
                if (a.bias) s += a.bias[(h * Nq + qi) * Nk + kj];
            }
            S[t] = s;
        }
        __syncthreads();

        /* online softmax, one warp per query row */
        for (int i = warp; i < BQ; i += nwarps) {
            float mx = -INFINITY;
            for (int j = lane; j < BK; j += 32) mx = fmaxf(mx, S[i * BK + j]);
            mx = pf_cu_warp_max(mx);
            const float m_old = M[i], m_new = fmaxf(m_old, mx);
            float corr = 1.0f, sum = 0.0f;
            if (m_new == -INFINITY) { /* nothing visible yet: keep acc = 0, l = 0 */
                for (int j = lane; j < BK; j += 32) S[i * BK + j] = 0.0f;
            } else {
                corr = expf(m_old - m_new); /* 0 when m_old = -inf */
                for (int j = lane; j < BK; j += 32) {
                    const float s = S[i * BK + j];
                    const float p = s == -INFINITY ? 0.0f : expf(s - m_new);
                    S[i * BK + j] = p;
                    sum += p;
                }
            }
            sum = pf_cu_warp_sum(sum);
            __syncwarp(); /* every lane has read M[i] and L[i] */
            if (lane == 0) {
                M[i] = m_new;
                L[i] = L[i] * corr + sum;
                Cr[i] = corr;
            }
        }
        __syncthreads();

        /* acc = acc * corr + P V */
        for (int64_t t = tid; t < (int64_t)BQ * Dv; t += nthr) {
            const int64_t i = t / Dv, e = t % Dv;
            const float *p = S + i * BK;
            float acc = Acc[t] * Cr[i];
            for (int j = 0; j < BK; j++) acc += p[j] * Vs[(int64_t)j * Dv + e];
            Acc[t] = acc;
        }
    }
    __syncthreads();

    for (int64_t t = tid; t < (int64_t)BQ * Dv; t += nthr) {
        const int64_t i = t / Dv, e = t % Dv, qi = q0 + i;
        if (qi >= Nq) continue;
        const float l = L[i];
        pf_cu_st(a.o, a.o_dtype, ((b * Nq + qi) * H + h) * Dv + e, l > 0.0f ? Acc[t] / l : 0.0f);
    }
}

extern "C" cudaError_t pf_cu_attention(const pf_cu_attn_args *a, cudaStream_t stream) {
    if (a->B <= 0 || a->Nq <= 0 || a->H <= 0 || a->Dv <= 0) return cudaSuccess;
    int bq, bk;
    size_t smem;
    if (!pf_cu_attention_tiles(a->D, a->Dv, &bq, &bk, &smem)) return cudaErrorInvalidValue;
    if (a->H > 65535 || a->B > 65535) return cudaErrorInvalidValue;
    const int64_t qtiles = (a->Nq + bq - 1) / bq;
    if (qtiles > 0x7fffffff) return cudaErrorInvalidValue;
    dim3 grid((unsigned)qtiles, (unsigned)a->H, (unsigned)a->B);
    pf_k_attention<<<grid, PF_ATTN_THREADS, smem, stream>>>(*a, bq, bk);
    return cudaGetLastError();
}
