/*
 * Tensor-core flash attention for the common case: q, k, v and o all bf16, head dims
 * D == Dv == 64, no additive bias, any mask mode (none, causal, frame, key). The
 * general kernel (attention.cu) computes everything else; pf_cu_attention_mma_ok says
 * which one applies, the backend picks (PF_CUDA_ATTN=simple forces the general one).
 * Semantics are attention.cu's: o = softmax(scale * q k^T, mask) v, masks through
 * pf_cu_mask_allows_meta, a query row that sees no key gives zeros.
 *
 * Layout: q [B, Nq, H, 64], k, v [B, Nk, H, 64], o [B, Nq, H, 64], all contiguous, so
 * consecutive tokens of one head are H*64 elements apart. Base pointers 16-byte aligned
 * (cp.async moves 16 bytes).
 *
 * Design (FlashAttention-2, sm_80 instructions only: cp.async, ldmatrix, mma.sync, so
 * the same code serves the sm_80 and sm_90a images):
 *  - Grid (ceil(Nq / BQ), H, B); a block of NW warps (8, or 4 when Nq <= 64) owns BQ =
 *    16 NW query rows of one (head, batch), warp w rows 16w..16w+15. Each warp keeps its
 *    Q rows as mma A fragments in registers for the whole key loop (loaded once from
 *    global memory). 8 warps share every K/V tile copied to shared memory: half the
 *    copies per query of 4 warps (at 768p a 4-warp grid reads as many bytes from L2 as
 *    the tensor cores need time for the tile's math).
 *  - Keys in tiles of 64. K and V tiles [64 keys, 64 dims] bf16 are copied to shared
 *    memory with cp.async (16-byte chunks; keys past Nk are zero-filled, so their V rows
 *    add exactly 0 and no stale NaN can leak in), in two stages: the copy of the next
 *    visible tile is issued before the current one is computed, so it overlaps the math.
 *    Rows are padded from 128 to 144 bytes: the 8 row addresses of one ldmatrix phase
 *    then start 4 banks apart and cover all 32 banks once (no conflicts).
 *  - S = Q K^T per warp: 16 x 64 scores = 8 n-tiles of 8 keys, each 4 k-steps of 16 dims
 *    of mma.m16n8k16 (bf16 in, f32 accumulate). Scores are scaled in f32 by
 *    scale * log2(e), so exp2f gives the softmax's exp. Masked and out-of-range entries
 *    become -inf.
 *  - Online softmax in registers: a thread holds 2 rows (groupID and groupID + 8) x 16
 *    columns of S; the row max is reduced over the quad (the 4 threads sharing a row)
 *    with __shfl_xor_sync 1 and 2. The running denominator l stays a per-thread partial
 *    sum (every quad member rescales by the same factor) reduced over the quad once at
 *    the end. While a row's running max is still -inf (nothing visible yet) its
 *    probabilities are 0 and the rescale factor 1, never exp(-inf - -inf) = NaN.
 *  - O += P V: the S accumulators of n-tiles 2s and 2s+1 are exactly the A fragment of
 *    k-step s of P (16 queries x 16 keys), rounded to bf16; V fragments via
 *    ldmatrix.trans from the row-major [key, dim] tile. O is 16 x 64 f32 per warp
 *    (8 n-tiles x 4 registers per thread).
 *  - End: O / l (0 when l == 0: the row saw no key), rounded to bf16 as the CPU does.
 *  - Tile skipping: a key tile no query of the block can see is neither loaded nor
 *    computed. CAUSAL stops at the first tile past the block's last query. FRAME: the
 *    block first finds qmax[c], the largest frame among its in-range queries with valid
 *    bit c (INT_MIN if none); key j is reachable iff qmax[valid(j)] >= frame(j), which is
 *    exactly "some query of the block allows j". KEY: a tile with no valid key. The
 *    tiles (at most 4096: 262144 keys, else the general kernel) are classified once,
 *    before the key loop (each warp a share of them, warp votes, one bit per tile for
 *    "reachable" and for "whole" in shared memory), so the loop finds the next tile in
 *    the bits without a barrier and has two barriers per tile (the previous stage is
 *    free; the current one has landed). The key metas of a tile travel with its K and V
 *    copy (cp.async, 4 bytes each).
 *  - Whole tiles: a tile every in-range query of the block sees entirely (all 64 keys
 *    below Nk; CAUSAL: last key <= first query; FRAME: all queries share one valid bit c,
 *    every key has bit c and a frame <= qmin[c], the smallest query frame; KEY: every key
 *    valid) is only scaled, with no per-element mask test: the image tiles of a DiT
 *    call, nearly all of them. Other tiles apply the mask per element, so neither
 *    skipping nor the whole-tile path ever changes a result.
 *
 * Fragment layouts of mma.m16n8k16 (PTX ISA), g = lane / 4 (groupID), t = lane % 4:
 *   A 16x16 (row): a0 (g, 2t..2t+1)  a1 (g+8, 2t..2t+1)  a2 (g, 2t+8..2t+9)  a3 (g+8, 2t+8..2t+9)
 *   B 16x8 (col):  b0 (k 2t..2t+1, n g)  b1 (k 2t+8..2t+9, n g)
 *   C 16x8 f32:    c0, c1 (g, 2t..2t+1)  c2, c3 (g+8, 2t..2t+1)
 * Each 32-bit A/B register holds two bf16, the lower column (k) index in the low half.
 * ldmatrix.m8n8.x4: lanes 8m..8m+7 give the row addresses of 8x8 matrix m; register m of
 * lane L gets (row L/4, cols 2(L%4)..+1) of matrix m, or with .trans (rows 2(L%4)..+1,
 * col L/4), i.e. a B fragment of a matrix stored [k][n].
 *
 * The host emulation (tests/cuda_emu) compiles kernels as plain C++ without __CUDACC__,
 * where inline PTX cannot run: there the instruction wrappers (pf_mma.cuh) call the
 * emulator's warp-collective versions of cp.async, ldmatrix and mma.sync (same fragment
 * layouts), so the emulated conformance suite runs this kernel's tiling, masking, tile
 * skipping and online softmax. It proves the logic, not the hardware's timing.
 */
#include "pf_mma.cuh"

#include <limits.h>

#define PF_MMA_D 64  /* head dim (D == Dv) */
#define PF_MMA_BK 64 /* keys per tile */
#define PF_MMA_LDS 72 /* shared row stride in bf16: 64 + 8 padding (144 bytes) */
#define PF_MMA_STAGE (PF_MMA_BK * PF_MMA_LDS * 2) /* bytes of one K (or V) stage */

/* Whether some query of the block can see key kj (reach) and whether every in-range
 * query of the block sees it (full: the tile-wide AND of it makes the tile whole). */
__device__ __forceinline__ void pf_mma_key_flags(const pf_cu_attn_args &a, const int32_t *km, int64_t kj, int64_t q0,
                                                 int qbits, const int32_t *qmax, const int32_t *qmin, int *reach,
                                                 int *full) {
    const bool in = kj < a.Nk;
    const int32_t kmeta = (a.mode >= 2 && in) ? km[kj] : 0;
    switch (a.mode) {
    case 1: /* causal: the caller's kend already stops at the block's last query */
        *reach = in;
        *full = in && kj <= q0;
        break;
    case 2: { /* frame: qmax/qmin per valid bit over the block's in-range queries */
        const int c = kmeta & 1, f = kmeta >> 1;
        *reach = in && qmax[c] >= f;
        *full = in && qbits == (1 << c) && qmin[c] >= f;
        break;
    }
    case 3: *reach = *full = in && (kmeta & 1); break;
    default: *reach = *full = in; break;
    }
}

/* Tile flags up front (pf_cu_attention_mma_ok: at most PF_MMA_MAX_TILES key tiles): warp w classifies tiles
 * w, w + NW, ... (each lane two keys), one bit per tile in reach[] and full[] (shared,
 * zeroed here). Contains barriers: every thread of the block calls it. */
#define PF_MMA_MAX_TILES 4096 /* 262144 keys; bits in 1 KiB of shared memory */
__device__ __forceinline__ void pf_mma_scan_all(const pf_cu_attn_args &a, const int32_t *km, int ntiles, int64_t q0,
                                                int qbits, const int32_t *qmax, const int32_t *qmin, uint32_t *reach,
                                                uint32_t *full, int nwarps) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    for (int i = tid; i < PF_MMA_MAX_TILES / 32; i += nwarps * 32) reach[i] = full[i] = 0u;
    __syncthreads();
    for (int t = warp; t < ntiles; t += nwarps) {
        int r0, f0, r1, f1;
        pf_mma_key_flags(a, km, (int64_t)t * PF_MMA_BK + lane, q0, qbits, qmax, qmin, &r0, &f0);
        pf_mma_key_flags(a, km, (int64_t)t * PF_MMA_BK + 32 + lane, q0, qbits, qmax, qmin, &r1, &f1);
        const bool r = __any_sync(0xffffffffu, r0 || r1), f = __all_sync(0xffffffffu, f0 && f1);
        if (lane == 0) {
            if (r) atomicOr(&reach[t >> 5], 1u << (t & 31));
            if (f) atomicOr(&full[t >> 5], 1u << (t & 31));
        }
    }
    __syncthreads();
}

/* First tile >= t with its reach bit set (ntiles: none), from the bits of pf_mma_scan_all;
 * every thread computes the same, no barrier. */
__device__ __forceinline__ int pf_mma_next_bit(const uint32_t *reach, int t, int ntiles) {
    while (t < ntiles) {
        const uint32_t w = reach[t >> 5] >> (t & 31);
        if (w) return t + __ffs((int)w) - 1;
        t = (t | 31) + 1;
    }
    return ntiles;
}

/* K and V rows k0..k0+63 -> shared [key, dim] tiles (zeros past Nk), and with km their
 * key metas -> kms, asynchronously (one commit group). */
__device__ __forceinline__ void pf_mma_load_tile(const uint16_t *k, const uint16_t *v, const int32_t *km, int64_t k0,
                                                 int64_t Nk, int64_t rs, uint16_t *Ks, uint16_t *Vs, int32_t *kms,
                                                 int nthreads) {
    if (km && threadIdx.x < PF_MMA_BK) {
        const int64_t kj = k0 + threadIdx.x;
        pf_mma_cp4(kms + threadIdx.x, km + (kj < Nk ? kj : 0), kj < Nk ? 4 : 0);
    }
    for (int c = threadIdx.x; c < PF_MMA_BK * 8; c += nthreads) { /* 8 chunks of 16 bytes per row */
        const int row = c >> 3, col = (c & 7) * 8;
        const int64_t kj = k0 + row;
        const int64_t off = (kj < Nk ? kj : 0) * rs + col;
        const int bytes = kj < Nk ? 16 : 0;
        pf_mma_cp16(Ks + row * PF_MMA_LDS + col, k + off, bytes);
        pf_mma_cp16(Vs + row * PF_MMA_LDS + col, v + off, bytes);
    }
    pf_mma_cp_commit();
}

/* NW warps of MT m-tiles (16 query rows each): BQ = 16 MT NW queries per block. Each K and
 * V fragment read from shared memory feeds MT mma instructions, so MT = 2 halves the
 * ldmatrix traffic per FLOP and gives each warp two independent accumulator chains.
 * MINB blocks per SM bound the registers (65536 / (32 NW MINB)). Variants: see
 * pf_cu_attention_mma. */
template <int NW, int MT, int MINB>
__global__ void __launch_bounds__(NW * 32, MINB) pf_k_attention_mma(pf_cu_attn_args a) {
    constexpr int BQ = 16 * MT * NW, NT = 32 * NW;
    /* two stages: tile i + 1 is copied while tile i is computed */
    __shared__ __align__(16) uint16_t Ks[2][PF_MMA_BK * PF_MMA_LDS]; /* [key, dim] */
    __shared__ __align__(16) uint16_t Vs[2][PF_MMA_BK * PF_MMA_LDS]; /* [key, dim] */
    __shared__ __align__(16) int32_t Km[2][PF_MMA_BK];               /* key metas of the tiles */
    __shared__ uint32_t Reach[PF_MMA_MAX_TILES / 32], Full[PF_MMA_MAX_TILES / 32]; /* tile bits */
    __shared__ int32_t Qmax[2], Qmin[2], Qbits; /* FRAME: query frame range per valid bit; bits present */

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int64_t H = a.H, Nq = a.Nq, Nk = a.Nk, h = blockIdx.y, b = blockIdx.z;
    const int64_t q0 = (int64_t)blockIdx.x * BQ;
    const int64_t rs = H * PF_MMA_D; /* elements between consecutive tokens */
    const int mode = a.mode;
    const uint16_t *q = (const uint16_t *)a.q + (b * Nq * H + h) * PF_MMA_D;
    const uint16_t *k = (const uint16_t *)a.k + (b * Nk * H + h) * PF_MMA_D;
    const uint16_t *v = (const uint16_t *)a.v + (b * Nk * H + h) * PF_MMA_D;
    const int32_t *qm = a.q_meta ? a.q_meta + b * Nq : NULL;
    const int32_t *km = a.k_meta ? a.k_meta + b * Nk : NULL;

    /* this thread's query rows: m-tile i, r = 0 -> row g, r = 1 -> row g + 8 of its 16 */
    int qi[MT][2]; /* Nq, Nk <= INT_MAX (pf_cu_attention_mma_ok) */
    bool qin[MT][2];
    int32_t qmeta[MT][2];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int r = 0; r < 2; r++) {
            qi[i][r] = (int)q0 + (warp * MT + i) * 16 + g + 8 * r;
            qin[i][r] = qi[i][r] < Nq;
            qmeta[i][r] = (mode == 2 && qin[i][r]) ? qm[qi[i][r]] : 0;
        }

    /* Q A fragments, k-step s covers dims 16s..16s+15; rows past Nq are zeros */
    uint32_t qa[MT][4][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int s = 0; s < 4; s++)
#pragma unroll
            for (int x = 0; x < 4; x++) {
                const int r = x & 1, col = 16 * s + 8 * (x >> 1) + 2 * t;
                qa[i][s][x] = qin[i][r] ? *(const uint32_t *)(q + (int64_t)qi[i][r] * rs + col) : 0u;
            }

    if (mode == 2) { /* per valid bit: the largest and smallest frame of the block's in-range queries */
        if (tid < 2) {
            Qmax[tid] = INT_MIN;
            Qmin[tid] = INT_MAX;
        }
        if (tid == 0) Qbits = 0;
        __syncthreads();
        for (int j = tid; j < BQ && q0 + j < Nq; j += NT) {
            const int32_t m = qm[q0 + j];
            atomicMax(&Qmax[m & 1], m >> 1);
            atomicMin(&Qmin[m & 1], m >> 1);
            atomicOr(&Qbits, 1 << (m & 1));
        }
        __syncthreads();
    }

    const float sl2 = a.scale * 1.4426950408889634f; /* scores in log2 units: exp(x) = exp2(x log2 e) */
    float o[MT][8][4];
    float m_run[MT][2], l_run[MT][2];
#pragma unroll
    for (int i = 0; i < MT; i++) {
#pragma unroll
        for (int n = 0; n < 8; n++)
#pragma unroll
            for (int x = 0; x < 4; x++) o[i][n][x] = 0.0f;
        m_run[i][0] = m_run[i][1] = -INFINITY;
        l_run[i][0] = l_run[i][1] = 0.0f;
    }
    const int64_t q_last = (q0 + BQ < Nq ? q0 + BQ : Nq) - 1;
    /* causal: no query of the block sees keys past its last query */
    const int64_t kend = mode == 1 ? (q_last + 1 < Nk ? q_last + 1 : Nk) : Nk;
    const int qbits = mode == 2 ? Qbits : 0;

    /* Which tiles to visit: classified once up front (bits), so the loop finds the next
     * one without a barrier */
    const int ntiles = (int)((kend + PF_MMA_BK - 1) / PF_MMA_BK);
    const int32_t *kmc = mode >= 2 ? km : NULL; /* metas copied with the tiles */
    pf_mma_scan_all(a, km, ntiles, q0, qbits, Qmax, Qmin, Reach, Full, NW);
    /* ldmatrix row addresses of this lane in stage 0. K (S = Q K^T): lanes 8m..8m+7 address
     * key lane & 7, dims 8m. V (.trans, O += P V): key 8 (m & 1) + (lane & 7), dims 8 (m >> 1). */
    const int m8 = lane >> 3;
    const pf_mma_sptr ks_lane = pf_mma_sbase(Ks[0]) + 2 * ((lane & 7) * PF_MMA_LDS + 8 * m8);
    const pf_mma_sptr vs_lane = pf_mma_sbase(Vs[0]) + 2 * ((8 * (m8 & 1) + (lane & 7)) * PF_MMA_LDS + 8 * (m8 >> 1));
    int cur = 0, t_cur = pf_mma_next_bit(Reach, 0, ntiles);
    if (t_cur < ntiles) pf_mma_load_tile(k, v, kmc, (int64_t)t_cur * PF_MMA_BK, Nk, rs, Ks[0], Vs[0], Km[0], NT);
    while (t_cur < ntiles) {
        const int kc = t_cur * PF_MMA_BK;
        const int t_nx = pf_mma_next_bit(Reach, t_cur + 1, ntiles);
        const bool all_cur = (Full[t_cur >> 5] >> (t_cur & 31)) & 1u;
        __syncthreads(); /* every warp is done with stage cur ^ 1 (the previous tile) */
        if (t_nx < ntiles)
            pf_mma_load_tile(k, v, kmc, (int64_t)t_nx * PF_MMA_BK, Nk, rs, Ks[cur ^ 1], Vs[cur ^ 1], Km[cur ^ 1], NT);
        else
            pf_mma_cp_commit(); /* an empty group, so "all but the newest group" is always tile t_cur */
        pf_mma_cp_wait_prior();
        __syncthreads();
        /* this lane's ldmatrix row addresses in the current stage (byte offsets below) */
        const pf_mma_sptr ks = ks_lane + cur * PF_MMA_STAGE, vs = vs_lane + cur * PF_MMA_STAGE;
        const int32_t *kms = Km[cur];

        /* S = Q K^T: n-tile n = keys 8n..8n+7. One ldmatrix.x4 per (n, half): lanes 8m..8m+7
         * address key 8n + (lane & 7), dims 32 half + 8m, so registers 0..3 are b0, b1 of
         * k-step 2 half and b0, b1 of k-step 2 half + 1; each feeds the MT m-tiles. */
        float s[MT][8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) {
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int x = 0; x < 4; x++) s[i][n][x] = 0.0f;
#pragma unroll
            for (int half = 0; half < 2; half++) {
                uint32_t kb[4];
                pf_mma_ldsm_x4(kb, ks + 2 * ((8 * n) * PF_MMA_LDS + 32 * half));
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    pf_mma_bf16(s[i][n], qa[i][2 * half], kb[0], kb[1]);
                    pf_mma_bf16(s[i][n], qa[i][2 * half + 1], kb[2], kb[3]);
                }
            }
        }

        /* scale and mask: s[i][n][x] is row g + 8 (x >> 1) of m-tile i, key 8n + 2t + (x & 1).
         * A tile every query sees whole needs no per-element test (rows past Nq are never
         * written). */
        if (all_cur) {
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int n = 0; n < 8; n++)
#pragma unroll
                    for (int x = 0; x < 4; x++) s[i][n][x] *= sl2;
        } else {
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int n = 0; n < 8; n++)
#pragma unroll
                    for (int x = 0; x < 4; x++) {
                        const int r = x >> 1, j = 8 * n + 2 * t + (x & 1);
                        const int kj = kc + j;
                        bool ok = qin[i][r] && kj < Nk;
                        if (ok && mode != 0) ok = pf_cu_mask_allows_meta(mode, qi[i][r], kj, qmeta[i][r], kms[j]);
                        s[i][n][x] = ok ? s[i][n][x] * sl2 : -INFINITY;
                    }
        }

        /* online softmax per row; the quad (lanes 4g..4g+3) shares a row */
#pragma unroll
        for (int i = 0; i < MT; i++) {
            float corr[2];
#pragma unroll
            for (int r = 0; r < 2; r++) {
                float mx = -INFINITY;
#pragma unroll
                for (int n = 0; n < 8; n++) mx = fmaxf(mx, fmaxf(s[i][n][2 * r], s[i][n][2 * r + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float m_new = fmaxf(m_run[i][r], mx);
                float sum = 0.0f;
                if (m_new == -INFINITY) { /* nothing visible yet: p = 0, acc and l stay 0 */
                    corr[r] = 1.0f;
#pragma unroll
                    for (int n = 0; n < 8; n++) s[i][n][2 * r] = s[i][n][2 * r + 1] = 0.0f;
                } else {
                    corr[r] = exp2f(m_run[i][r] - m_new); /* 0 when m_run = -inf */
#pragma unroll
                    for (int n = 0; n < 8; n++)
#pragma unroll
                        for (int c = 0; c < 2; c++) {
                            const float p = exp2f(s[i][n][2 * r + c] - m_new); /* exp2(-inf) = 0: masked */
                            s[i][n][2 * r + c] = p;
                            sum += p;
                        }
                }
                m_run[i][r] = m_new;
                l_run[i][r] = l_run[i][r] * corr[r] + sum; /* this thread's partial sum of the row */
            }
#pragma unroll
            for (int n = 0; n < 8; n++) {
                o[i][n][0] *= corr[0];
                o[i][n][1] *= corr[0];
                o[i][n][2] *= corr[1];
                o[i][n][3] *= corr[1];
            }
        }

/* O += P V: k-step u = keys 16u..16u+15, its A fragment is S n-tiles 2u, 2u+1.
 * ldmatrix.x4.trans per (u, pair p of dim n-tiles): lanes 8m..8m+7 address key
 * 16u + 8 (m & 1) + (lane & 7), dims 16p + 8 (m >> 1); registers 0..3 are b0, b1
 * of n-tile 2p and b0, b1 of n-tile 2p + 1, each used by the MT m-tiles. */
#pragma unroll
        for (int u = 0; u < 4; u++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int i = 0; i < MT; i++) {
                pa[i][0] = pf_mma_pack_bf16(s[i][2 * u][0], s[i][2 * u][1]);
                pa[i][1] = pf_mma_pack_bf16(s[i][2 * u][2], s[i][2 * u][3]);
                pa[i][2] = pf_mma_pack_bf16(s[i][2 * u + 1][0], s[i][2 * u + 1][1]);
                pa[i][3] = pf_mma_pack_bf16(s[i][2 * u + 1][2], s[i][2 * u + 1][3]);
            }
#pragma unroll
            for (int p = 0; p < 4; p++) {
                uint32_t vb[4];
                pf_mma_ldsm_x4_trans(vb, vs + 2 * ((16 * u) * PF_MMA_LDS + 16 * p));
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    pf_mma_bf16(o[i][2 * p], pa[i], vb[0], vb[1]);
                    pf_mma_bf16(o[i][2 * p + 1], pa[i], vb[2], vb[3]);
                }
            }
        }
        t_cur = t_nx;
        cur ^= 1;
    }

/* o = acc / l (0 for a row that saw no key); o[i][n][x] is row g + 8 (x >> 1) of m-tile i,
 * dim 8n + 2t + (x & 1) */
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float l = l_run[i][r];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            if (!qin[i][r]) continue;
            const float inv = l > 0.0f ? 1.0f / l : 0.0f;
            uint16_t *dst = (uint16_t *)a.o + ((b * Nq + qi[i][r]) * H + h) * PF_MMA_D;
#pragma unroll
            for (int n = 0; n < 8; n++) {
                const uint32_t lo = pf_cu_f32_to_bf16(o[i][n][2 * r] * inv);
                const uint32_t hi = pf_cu_f32_to_bf16(o[i][n][2 * r + 1] * inv);
                *(uint32_t *)(dst + 8 * n + 2 * t) = lo | (hi << 16);
            }
        }
}

static bool pf_mma_aligned(const void *p) { return ((uintptr_t)p & 15u) == 0; }

extern "C" int pf_cu_attention_mma_ok(const pf_cu_attn_args *a) {
    if (a->q_dtype != PF_CU_BF16 || a->k_dtype != PF_CU_BF16 || a->v_dtype != PF_CU_BF16 || a->o_dtype != PF_CU_BF16)
        return 0;
    if (a->D != PF_MMA_D || a->Dv != PF_MMA_D || a->bias) return 0;
    if (a->mode < 0 || a->mode > 3) return 0;
    if (a->mode == 2 && (!a->q_meta || !a->k_meta)) return 0;
    if (a->mode == 3 && !a->k_meta) return 0;
    if (a->B < 0 || a->Nq < 0 || a->Nk < 0 || a->H < 0 || a->H > 65535 || a->B > 65535) return 0;
    if (a->Nq > INT_MAX - 256 || a->Nk > (int64_t)PF_MMA_MAX_TILES * PF_MMA_BK) return 0;
    return pf_mma_aligned(a->q) && pf_mma_aligned(a->k) && pf_mma_aligned(a->v) && pf_mma_aligned(a->o);
}

/* Launch variant v (PF_CU_ATTN_*: warps per block x m-tiles per warp, blocks per SM for the
 * register bound). Short query sides (Nq <= 64) take 4 warps of one m-tile in any variant,
 * so no warp idles. */
template <int NW, int MT, int MINB> static void pf_mma_launch(const pf_cu_attn_args *a, cudaStream_t stream) {
    constexpr int BQ = 16 * NW * MT;
    dim3 grid((unsigned)((a->Nq + BQ - 1) / BQ), (unsigned)a->H, (unsigned)a->B);
    pf_k_attention_mma<NW, MT, MINB><<<grid, NW * 32, 0, stream>>>(*a);
}

extern "C" cudaError_t pf_cu_attention_mma(const pf_cu_attn_args *a, int variant, cudaStream_t stream) {
    if (!pf_cu_attention_mma_ok(a)) return cudaErrorInvalidValue;
    if (a->B == 0 || a->Nq == 0 || a->H == 0) return cudaSuccess;
    if (a->Nq <= 64) {
        pf_mma_launch<4, 1, 4>(a, stream);
        return cudaGetLastError();
    }
    switch (variant) {
    case PF_CU_ATTN_W8: pf_mma_launch<8, 1, 2>(a, stream); break;
    case PF_CU_ATTN_W8_OCC1: pf_mma_launch<8, 1, 1>(a, stream); break;
    case PF_CU_ATTN_W4_M2: pf_mma_launch<4, 2, 2>(a, stream); break;
    case PF_CU_ATTN_W8_M2: pf_mma_launch<8, 2, 1>(a, stream); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}
