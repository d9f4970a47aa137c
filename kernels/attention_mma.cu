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
 *    decision is __syncthreads_or over the tile's keys (uniform across the block), and
 *    its barriers double as "every warp is done with the stage the next copy overwrites".
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
 * where inline PTX cannot run: there the four instruction wrappers below call the
 * emulator's warp-collective versions of cp.async, ldmatrix and mma.sync (same fragment
 * layouts), so the emulated conformance suite runs this kernel's tiling, masking, tile
 * skipping and online softmax. It proves the logic, not the hardware's timing.
 */
#include "pf_cuda_common.cuh"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#endif
#include <limits.h>

#define PF_MMA_D 64  /* head dim (D == Dv) */
#define PF_MMA_BK 64 /* keys per tile */
#define PF_MMA_LDS 72 /* shared row stride in bf16: 64 + 8 padding (144 bytes) */

#if defined(__CUDACC__)
__device__ __forceinline__ uint32_t pf_mma_smem_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 16 bytes global -> shared; src_bytes 0 zero-fills the destination (reads nothing). */
__device__ __forceinline__ void pf_mma_cp16(void *dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(pf_mma_smem_addr(dst)), "l"(src),
                 "r"(src_bytes)
                 : "memory");
}

__device__ __forceinline__ void pf_mma_cp_commit(void) { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/* every committed group but the newest is complete (this thread's copies) */
__device__ __forceinline__ void pf_mma_cp_wait_prior(void) { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }

__device__ __forceinline__ void pf_mma_ldsm_x4(uint32_t r[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(pf_mma_smem_addr(p)));
}

__device__ __forceinline__ void pf_mma_ldsm_x4_trans(uint32_t r[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(pf_mma_smem_addr(p)));
}

/* c += a b for one m16n8k16 tile (layouts in the header comment). */
__device__ __forceinline__ void pf_mma_bf16(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Two f32 as a bf16 pair for an A fragment register (lo in the low half), nearest even. */
__device__ __forceinline__ uint32_t pf_mma_pack_bf16(float lo, float hi) {
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}
#else /* host emulation (tests/cuda_emu/emu_runtime.cpp) */
__device__ __forceinline__ void pf_mma_cp16(void *dst, const void *src, int src_bytes) {
    if (src_bytes)
        memcpy(dst, src, 16);
    else
        memset(dst, 0, 16);
}
__device__ __forceinline__ void pf_mma_cp_commit(void) {}
__device__ __forceinline__ void pf_mma_cp_wait_prior(void) {}
__device__ __forceinline__ void pf_mma_ldsm_x4(uint32_t r[4], const void *p) { emu_ldmatrix_x4(r, p, false); }
__device__ __forceinline__ void pf_mma_ldsm_x4_trans(uint32_t r[4], const void *p) { emu_ldmatrix_x4(r, p, true); }
__device__ __forceinline__ void pf_mma_bf16(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    emu_mma_bf16_16816(c, a, b0, b1);
}
__device__ __forceinline__ uint32_t pf_mma_pack_bf16(float lo, float hi) {
    return (uint32_t)pf_cu_f32_to_bf16(lo) | ((uint32_t)pf_cu_f32_to_bf16(hi) << 16);
}
#endif

/* Block-uniform scan for the next key tile at or after k0 that some query of the block
 * can see (k0 >= Nk or past the causal limit: none). Its key metas go to km_s (threads
 * tid < 64, after the scan's last barrier, so no warp still reads km_s); *all says whether
 * every (query, key) pair of the tile is visible and the tile is whole, so the caller can
 * skip the per-element mask. Contains barriers: every thread of the block calls it. */
__device__ __forceinline__ int64_t pf_mma_next_tile(const pf_cu_attn_args &a, const int32_t *km, int64_t k0,
                                                    int64_t kend, int64_t q0, int qbits, const int32_t *qmax,
                                                    const int32_t *qmin, int32_t *km_s, int *all) {
    const int tid = threadIdx.x, mode = a.mode;
    for (; k0 < kend; k0 += PF_MMA_BK) {
        int32_t kmeta = 0;
        int reach = 0, full = 1;
        if (tid < PF_MMA_BK) {
            const int64_t kj = k0 + tid;
            const bool in = kj < a.Nk;
            if (mode >= 2 && in) kmeta = km[kj];
            switch (mode) {
            case 1: /* causal: kend already stops at the block's last query */
                reach = in;
                full = in && kj <= q0;
                break;
            case 2: { /* frame: qmax/qmin per valid bit over the block's in-range queries */
                const int c = kmeta & 1, f = kmeta >> 1;
                reach = in && qmax[c] >= f;
                full = in && qbits == (1 << c) && qmin[c] >= f;
                break;
            }
            case 3: reach = full = in && (kmeta & 1); break;
            default: reach = full = in; break;
            }
        }
        if (__syncthreads_or(reach)) {
            *all = __syncthreads_and(full);
            if (tid < PF_MMA_BK) km_s[tid] = kmeta;
            return k0;
        }
    }
    return kend;
}

/* K and V rows k0..k0+63 -> shared [key, dim] tiles (zeros past Nk), asynchronously. */
__device__ __forceinline__ void pf_mma_load_tile(const uint16_t *k, const uint16_t *v, int64_t k0, int64_t Nk,
                                                 int64_t rs, uint16_t *Ks, uint16_t *Vs, int nthreads) {
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

/* NW warps, 16 query rows each: BQ = 16 NW queries per block. 16 warps resident per SM
 * (2 blocks of 8): ptxas then keeps the kernel in 128 registers with a few bytes of spill,
 * where unbounded it takes 167 and one 8-warp block per SM. */
template <int NW> __global__ void __launch_bounds__(NW * 32, 16 / NW) pf_k_attention_mma(pf_cu_attn_args a) {
    constexpr int BQ = 16 * NW, NT = 32 * NW;
    /* two stages: tile i + 1 is copied while tile i is computed */
    __shared__ __align__(16) uint16_t Ks[2][PF_MMA_BK * PF_MMA_LDS]; /* [key, dim] */
    __shared__ __align__(16) uint16_t Vs[2][PF_MMA_BK * PF_MMA_LDS]; /* [key, dim] */
    __shared__ int32_t Km[2][PF_MMA_BK];                             /* key metas of the tiles */
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

    /* this thread's two query rows: r = 0 -> row g, r = 1 -> row g + 8 of the warp's 16 */
    int64_t qi[2];
    bool qin[2];
    int32_t qmeta[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        qi[r] = q0 + warp * 16 + g + 8 * r;
        qin[r] = qi[r] < Nq;
        qmeta[r] = (mode == 2 && qin[r]) ? qm[qi[r]] : 0;
    }

    /* Q A fragments, k-step s covers dims 16s..16s+15; rows past Nq are zeros */
    uint32_t qa[4][4];
#pragma unroll
    for (int s = 0; s < 4; s++)
#pragma unroll
        for (int x = 0; x < 4; x++) {
            const int r = x & 1, col = 16 * s + 8 * (x >> 1) + 2 * t;
            qa[s][x] = qin[r] ? *(const uint32_t *)(q + qi[r] * rs + col) : 0u;
        }

    if (mode == 2) { /* per valid bit: the largest and smallest frame of the block's in-range queries */
        if (tid < 2) {
            Qmax[tid] = INT_MIN;
            Qmin[tid] = INT_MAX;
        }
        if (tid == 0) Qbits = 0;
        __syncthreads();
        if (tid < BQ && q0 + tid < Nq) {
            const int32_t m = qm[q0 + tid];
            atomicMax(&Qmax[m & 1], m >> 1);
            atomicMin(&Qmin[m & 1], m >> 1);
            atomicOr(&Qbits, 1 << (m & 1));
        }
        __syncthreads();
    }

    const float sl2 = a.scale * 1.4426950408889634f; /* scores in log2 units: exp(x) = exp2(x log2 e) */
    float o[8][4];
#pragma unroll
    for (int n = 0; n < 8; n++)
#pragma unroll
        for (int x = 0; x < 4; x++) o[n][x] = 0.0f;
    float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};
    const int64_t q_last = (q0 + BQ < Nq ? q0 + BQ : Nq) - 1;
    /* causal: no query of the block sees keys past its last query */
    const int64_t kend = mode == 1 ? (q_last + 1 < Nk ? q_last + 1 : Nk) : Nk;
    const int qbits = mode == 2 ? Qbits : 0;

    int cur = 0, all_cur = 0;
    int64_t kc = pf_mma_next_tile(a, km, 0, kend, q0, qbits, Qmax, Qmin, Km[0], &all_cur);
    if (kc < kend) pf_mma_load_tile(k, v, kc, Nk, rs, Ks[0], Vs[0], NT);
    while (kc < kend) {
        /* the scan's barriers also order every warp's reads of stage cur ^ 1 (the previous
         * tile) before the copy into it */
        int all_nx = 0;
        const int64_t kn = pf_mma_next_tile(a, km, kc + PF_MMA_BK, kend, q0, qbits, Qmax, Qmin, Km[cur ^ 1], &all_nx);
        if (kn < kend)
            pf_mma_load_tile(k, v, kn, Nk, rs, Ks[cur ^ 1], Vs[cur ^ 1], NT);
        else
            pf_mma_cp_commit(); /* an empty group, so "all but the newest group" is always tile kc */
        pf_mma_cp_wait_prior();
        __syncthreads();
        const uint16_t *ks = Ks[cur], *vs = Vs[cur];
        const int32_t *kms = Km[cur];

        /* S = Q K^T: n-tile n = keys 8n..8n+7. One ldmatrix.x4 per (n, half): lanes 8m..8m+7
         * address key 8n + (lane & 7), dims 32 half + 8m, so registers 0..3 are b0, b1 of
         * k-step 2 half and b0, b1 of k-step 2 half + 1. */
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) {
#pragma unroll
            for (int x = 0; x < 4; x++) s[n][x] = 0.0f;
#pragma unroll
            for (int half = 0; half < 2; half++) {
                uint32_t kb[4];
                pf_mma_ldsm_x4(kb, ks + (8 * n + (lane & 7)) * PF_MMA_LDS + 32 * half + 8 * (lane >> 3));
                pf_mma_bf16(s[n], qa[2 * half], kb[0], kb[1]);
                pf_mma_bf16(s[n], qa[2 * half + 1], kb[2], kb[3]);
            }
        }

        /* scale and mask: s[n][x] is row g + 8 (x >> 1), key 8n + 2t + (x & 1). A tile every
         * query sees whole needs no per-element test (rows past Nq are never written). */
        if (all_cur) {
#pragma unroll
            for (int n = 0; n < 8; n++)
#pragma unroll
                for (int x = 0; x < 4; x++) s[n][x] *= sl2;
        } else {
#pragma unroll
            for (int n = 0; n < 8; n++)
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    const int r = x >> 1, j = 8 * n + 2 * t + (x & 1);
                    const int64_t kj = kc + j;
                    bool ok = qin[r] && kj < Nk;
                    if (ok && mode != 0) ok = pf_cu_mask_allows_meta(mode, qi[r], kj, qmeta[r], kms[j]);
                    s[n][x] = ok ? s[n][x] * sl2 : -INFINITY;
                }
        }

        /* online softmax per row; the quad (lanes 4g..4g+3) shares a row */
        float corr[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float mx = -INFINITY;
#pragma unroll
            for (int n = 0; n < 8; n++) mx = fmaxf(mx, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float m_new = fmaxf(m_run[r], mx);
            float sum = 0.0f;
            if (m_new == -INFINITY) { /* nothing visible yet: p = 0, acc and l stay 0 */
                corr[r] = 1.0f;
#pragma unroll
                for (int n = 0; n < 8; n++) s[n][2 * r] = s[n][2 * r + 1] = 0.0f;
            } else {
                corr[r] = exp2f(m_run[r] - m_new); /* 0 when m_run = -inf */
#pragma unroll
                for (int n = 0; n < 8; n++)
#pragma unroll
                    for (int c = 0; c < 2; c++) {
                        const float p = exp2f(s[n][2 * r + c] - m_new); /* exp2(-inf) = 0: masked */
                        s[n][2 * r + c] = p;
                        sum += p;
                    }
            }
            m_run[r] = m_new;
            l_run[r] = l_run[r] * corr[r] + sum; /* this thread's partial sum of the row */
        }
#pragma unroll
        for (int n = 0; n < 8; n++) {
            o[n][0] *= corr[0];
            o[n][1] *= corr[0];
            o[n][2] *= corr[1];
            o[n][3] *= corr[1];
        }

/* O += P V: k-step u = keys 16u..16u+15, its A fragment is S n-tiles 2u, 2u+1.
 * ldmatrix.x4.trans per (u, pair p of dim n-tiles): lanes 8m..8m+7 address key
 * 16u + 8 (m & 1) + (lane & 7), dims 16p + 8 (m >> 1); registers 0..3 are b0, b1
 * of n-tile 2p and b0, b1 of n-tile 2p + 1. */
#pragma unroll
        for (int u = 0; u < 4; u++) {
            uint32_t pa[4];
            pa[0] = pf_mma_pack_bf16(s[2 * u][0], s[2 * u][1]);
            pa[1] = pf_mma_pack_bf16(s[2 * u][2], s[2 * u][3]);
            pa[2] = pf_mma_pack_bf16(s[2 * u + 1][0], s[2 * u + 1][1]);
            pa[3] = pf_mma_pack_bf16(s[2 * u + 1][2], s[2 * u + 1][3]);
#pragma unroll
            for (int p = 0; p < 4; p++) {
                uint32_t vb[4];
                const int m = lane >> 3;
                pf_mma_ldsm_x4_trans(vb, vs + (16 * u + 8 * (m & 1) + (lane & 7)) * PF_MMA_LDS + 16 * p + 8 * (m >> 1));
                pf_mma_bf16(o[2 * p], pa, vb[0], vb[1]);
                pf_mma_bf16(o[2 * p + 1], pa, vb[2], vb[3]);
            }
        }
        kc = kn;
        all_cur = all_nx;
        cur ^= 1;
    }

/* o = acc / l (0 for a row that saw no key); o[n][x] is row g + 8 (x >> 1), dim 8n + 2t + (x & 1) */
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float l = l_run[r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        if (!qin[r]) continue;
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        uint16_t *dst = (uint16_t *)a.o + ((b * Nq + qi[r]) * H + h) * PF_MMA_D;
#pragma unroll
        for (int n = 0; n < 8; n++) {
            const uint32_t lo = pf_cu_f32_to_bf16(o[n][2 * r] * inv), hi = pf_cu_f32_to_bf16(o[n][2 * r + 1] * inv);
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
    if ((a->Nq + 63) / 64 > 0x7fffffff) return 0;
    return pf_mma_aligned(a->q) && pf_mma_aligned(a->k) && pf_mma_aligned(a->v) && pf_mma_aligned(a->o);
}

extern "C" cudaError_t pf_cu_attention_mma(const pf_cu_attn_args *a, cudaStream_t stream) {
    if (!pf_cu_attention_mma_ok(a)) return cudaErrorInvalidValue;
    if (a->B == 0 || a->Nq == 0 || a->H == 0) return cudaSuccess;
    /* 8 warps (128 queries) share each K/V tile copied to shared memory, halving the
     * copies per query against 4 warps; a short query side keeps 4 so no warp idles */
    if (a->Nq > 64) {
        dim3 grid((unsigned)((a->Nq + 127) / 128), (unsigned)a->H, (unsigned)a->B);
        pf_k_attention_mma<8><<<grid, 256, 0, stream>>>(*a);
    } else {
        dim3 grid(1u, (unsigned)a->H, (unsigned)a->B);
        pf_k_attention_mma<4><<<grid, 128, 0, stream>>>(*a);
    }
    return cudaGetLastError();
}
