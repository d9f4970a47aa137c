/*
 * Causal conv3d as an implicit GEMM on the tensor cores (PF_CUDA_CONV=implicit; the GEMM
 * path's column matrix is never written). Semantics of pf_cu_conv3d (conv3d.cu): y[b, co, p]
 * = bias[co] + sum_k w[co, k] col[k, p] with k = ci * taps + (a * kh + e) * kw + f the
 * weight's own order and col the input value (or front-cache frame, or zero padding) that
 * output position p = (to * Ho + ho) * Wo + wo multiplies with tap (a, e, f) of channel ci.
 * bf16 x, w and cache (mma.sync m16n8k16, f32 accumulation); y in any float type, the f32
 * bias added to the f32 sum before the single rounding.
 *
 * Tiling: a block of 8 warps computes 128 output channels x 128 positions of one batch
 * item; warp (wm, wn) = (warp % 2, warp / 2) owns 64 channels x 32 positions: 4 m-tiles x 4
 * n-tiles of m16n8 accumulators (64 f32 registers). K advances in steps of 32:
 *   A, the weights [128 co][32 k]: cp.async rows of w [Co, K] (K % 8 == 0: whole 16-byte
 *     chunks, zero-filled past Co or K);
 *   B, the columns [32 k][128 p], gathered: thread t owns position p0 + (t % 128) and 16
 *     consecutive k of the step, decodes its position once per block and each k's (ci, a,
 *     e, f) as it goes; a warp's 32 threads read 32 neighbouring input columns.
 * Both live in two shared-memory stages: while step s is multiplied, the weights of s + 1
 * are in flight (cp.async) and its column values are loaded into registers, stored into
 * the other stage after the math. Rows are padded (A: 40, B: 136 bf16) so the 8 row
 * addresses of each ldmatrix phase fall on distinct banks. A fragments by ldmatrix.x4,
 * B fragments by ldmatrix.x4.trans from the [k][p] tile (as attention_mma.cu reads V).
 */
#include "pf_mma.cuh"

#define PF_IG_BM 128 /* output channels per block */
#define PF_IG_BN 128 /* positions per block */
#define PF_IG_BK 32  /* k per step */
#define PF_IG_LDA (PF_IG_BK + 8)
#define PF_IG_LDB (PF_IG_BN + 8)

/* Columns of step k0 for this thread's position: 16 raw bf16 words (zeros past K, past P,
 * for padding, and for missing cache frames). */
__device__ __forceinline__ void pf_ig_gather(const pf_cu_conv3d_args &a, const uint16_t *xb, const uint16_t *fb,
                                             int64_t K, int taps, int64_t HW, bool pin, int64_t to, int64_t ho,
                                             int64_t wo, int64_t k0, uint16_t v[16]) {
    const int khw = (int)(a.kh * a.kw), kw = (int)a.kw;
#pragma unroll
    for (int r = 0; r < 16; r++) {
        const int64_t k = k0 + r;
        uint16_t val = 0;
        if (pin && k < K) {
            const int64_t ci = k / taps;
            const int tap = (int)(k - ci * taps), ta = tap / khw, e = (tap - ta * khw) / kw, f = tap % kw;
            const int64_t tp = to * a.st + ta, hi = ho * a.sh + e - a.pad_h, wi = wo * a.sw + f - a.pad_w;
            if (hi >= 0 && hi < a.H && wi >= 0 && wi < a.W) {
                if (tp >= a.pad_t)
                    val = xb[(ci * a.T + (tp - a.pad_t)) * HW + hi * a.W + wi];
                else if (fb)
                    val = fb[(ci * a.pad_t + tp) * HW + hi * a.W + wi];
            }
        }
        v[r] = val;
    }
}

__global__ void __launch_bounds__(256, 1) pf_k_conv3d_igemm(pf_cu_conv3d_args a) {
    __shared__ __align__(16) uint16_t As[2][PF_IG_BM * PF_IG_LDA]; /* [co][k] */
    __shared__ __align__(16) uint16_t Bs[2][PF_IG_BK * PF_IG_LDB]; /* [k][p] */

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int wm = warp & 1, wn = warp >> 1;
    const int64_t b = blockIdx.z, co0 = (int64_t)blockIdx.y * PF_IG_BM, p0 = (int64_t)blockIdx.x * PF_IG_BN;
    const int taps = (int)(a.kt * a.kh * a.kw);
    const int64_t K = a.Ci * taps, P = a.To * a.Ho * a.Wo, HW = a.H * a.W;
    const uint16_t *w = (const uint16_t *)a.w;
    const uint16_t *xb = (const uint16_t *)a.x + b * a.Ci * a.T * HW;
    const uint16_t *fb = a.front ? (const uint16_t *)a.front + b * a.Ci * a.pad_t * HW : NULL;

    /* this thread's position column and k rows of B */
    const int bn = tid & (PF_IG_BN - 1), bk = (tid >> 7) * 16;
    const int64_t p = p0 + bn;
    const bool pin = p < P;
    const int64_t wo = pin ? p % a.Wo : 0, ho = pin ? (p / a.Wo) % a.Ho : 0, to = pin ? p / (a.Wo * a.Ho) : 0;

    /* weights of step k0 -> As[s]: 128 rows x 4 chunks of 8, two chunks per thread */
    auto load_a = [&](int s, int64_t k0) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int c = tid + i * 256, row = c >> 2, col = (c & 3) * 8;
            const int64_t co = co0 + row, k = k0 + col;
            const bool ok = co < a.Co && k < K;
            pf_mma_cp16(As[s] + row * PF_IG_LDA + col, w + (ok ? co * K + k : 0), ok ? 16 : 0);
        }
        pf_mma_cp_commit();
    };
    auto store_b = [&](int s, const uint16_t v[16]) {
#pragma unroll
        for (int r = 0; r < 16; r++) Bs[s][(bk + r) * PF_IG_LDB + bn] = v[r];
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int x = 0; x < 4; x++) acc[i][j][x] = 0.0f;

    /* ldmatrix row addresses of this lane in stage 0. A (m16 x k16): matrix m = lane / 8 is
     * rows 8 (m & 1) .. +7, cols 8 (m >> 1). B (.trans, k16 x n16 as two n8 tiles): k 8 (m & 1)
     * + (lane & 7), p 8 (m >> 1). */
    const int m8 = lane >> 3;
    const pf_mma_sptr a_lane =
        pf_mma_sbase(As[0]) + 2 * ((wm * 64 + 8 * (m8 & 1) + (lane & 7)) * PF_IG_LDA + 8 * (m8 >> 1));
    const pf_mma_sptr b_lane =
        pf_mma_sbase(Bs[0]) + 2 * ((8 * (m8 & 1) + (lane & 7)) * PF_IG_LDB + wn * 32 + 8 * (m8 >> 1));
    const int a_stage = PF_IG_BM * PF_IG_LDA * 2, b_stage = PF_IG_BK * PF_IG_LDB * 2; /* bytes */

    const int64_t nk = (K + PF_IG_BK - 1) / PF_IG_BK;
    uint16_t v[16];
    load_a(0, 0);
    pf_ig_gather(a, xb, fb, K, taps, HW, pin, to, ho, wo, bk, v);
    store_b(0, v);
    pf_mma_cp_wait_all();
    __syncthreads();
    for (int64_t s = 0; s < nk; s++) {
        const int cur = (int)(s & 1);
        const bool more = s + 1 < nk;
        if (more) { /* step s + 1: weights in flight, columns into registers */
            load_a(cur ^ 1, (s + 1) * PF_IG_BK);
            pf_ig_gather(a, xb, fb, K, taps, HW, pin, to, ho, wo, (s + 1) * PF_IG_BK + bk, v);
        }
        const pf_mma_sptr as = a_lane + cur * a_stage, bs = b_lane + cur * b_stage;
#pragma unroll
        for (int kk = 0; kk < 2; kk++) {
            uint32_t af[4][4], bf[2][4];
#pragma unroll
            for (int i = 0; i < 4; i++) pf_mma_ldsm_x4(af[i], as + 2 * (i * 16 * PF_IG_LDA + 16 * kk));
#pragma unroll
            for (int q = 0; q < 2; q++) pf_mma_ldsm_x4_trans(bf[q], bs + 2 * (16 * kk * PF_IG_LDB + 16 * q));
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int q = 0; q < 2; q++) {
                    pf_mma_bf16(acc[i][2 * q], af[i], bf[q][0], bf[q][1]);
                    pf_mma_bf16(acc[i][2 * q + 1], af[i], bf[q][2], bf[q][3]);
                }
        }
        if (more) store_b(cur ^ 1, v); /* every warp finished reading stage cur ^ 1 at the last barrier */
        pf_mma_cp_wait_all();          /* this thread's weight copies of step s + 1 */
        __syncthreads();
    }

    /* y[b, co, p] = acc + bias: acc[i][j][x] is channel wm*64 + 16i + g + 8 (x >> 1), position
     * wn*32 + 8j + 2t + (x & 1) */
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int hr = 0; hr < 2; hr++) {
            const int64_t co = co0 + wm * 64 + 16 * i + g + 8 * hr;
            if (co >= a.Co) continue;
            const float bias = a.bias ? pf_cu_ld(a.bias, a.bias_dtype, co) : 0.0f;
            const int64_t row = (b * a.Co + co) * P;
#pragma unroll
            for (int j = 0; j < 4; j++)
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    const int64_t pp = p0 + wn * 32 + 8 * j + 2 * t + c;
                    if (pp < P) pf_cu_st(a.y, a.y_dtype, row + pp, acc[i][j][2 * hr + c] + bias);
                }
        }
}

extern "C" int pf_cu_conv3d_igemm_ok(const pf_cu_conv3d_args *a) {
    if (a->x_dtype != PF_CU_BF16 || a->w_dtype != PF_CU_BF16 || (a->front && a->front_dtype != PF_CU_BF16)) return 0;
    const int64_t taps = a->kt * a->kh * a->kw, K = a->Ci * taps, P = a->To * a->Ho * a->Wo;
    if (taps <= 0 || K <= 0 || K % 8 || ((uintptr_t)a->w & 15u)) return 0; /* whole 16-byte weight chunks */
    if (taps > 0x7fffffff || a->B > 65535 || (a->Co + PF_IG_BM - 1) / PF_IG_BM > 65535 ||
        (P + PF_IG_BN - 1) / PF_IG_BN > 0x7fffffff)
        return 0;
    return 1;
}

extern "C" cudaError_t pf_cu_conv3d_igemm(const pf_cu_conv3d_args *a, cudaStream_t stream) {
    if (!pf_cu_conv3d_igemm_ok(a)) return cudaErrorInvalidValue;
    const int64_t P = a->To * a->Ho * a->Wo;
    if (a->B == 0 || a->Co == 0 || P == 0) return cudaSuccess;
    dim3 grid((unsigned)((P + PF_IG_BN - 1) / PF_IG_BN), (unsigned)((a->Co + PF_IG_BM - 1) / PF_IG_BM),
              (unsigned)a->B);
    pf_k_conv3d_igemm<<<grid, 256, 0, stream>>>(*a);
    return cudaGetLastError();
}
