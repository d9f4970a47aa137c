/*
 * Fast kernel: attention, flash style.
 *
 * q [B, Nq, H, D], k [B, Nk, H, D], v [B, Nk, H, Dv] -> o [B, Nq, H, Dv].
 * One task = (batch, head, a group of up to G blocks of QB queries); tasks are
 * spread over the pool. A task walks the keys in blocks of KB; each key block
 * is packed once (K^T and V, converted to f32) and then serves every query
 * block of the group:
 *   S = scale * Q K^T      (QB x KB, the GEMM micro-kernel on packed blocks)
 *   S += bias; masked entries -> -inf
 *   online softmax in f32: m' = max(m, rowmax S), O *= exp(m - m'),
 *   P = exp(S - m'), l = l exp(m - m') + rowsum P
 *   O += P V               (QB x Dv, same micro-kernel)
 * and finally writes O / l (0 for a query that saw no key). Key blocks that
 * the mask hides from every query of a block are skipped without touching
 * them (causal: keys after the block; frame mask: history frames never see
 * later ones, text sees frame 0 only; key mask: all-padding blocks), and
 * blocks it shows in full skip the per-element test.
 */
#include "cpu_gemm.h"
#include "cpu_vmath.h"

#define PF_ATT_KB 128                /* keys per block: a multiple of every micro-kernel's NR */
#define PF_ATT_QB_MIN 64             /* queries per block, rounded up to a multiple of MR and NR */
#define PF_ATT_GROUP_FLOATS (1 << 17) /* per-thread state budget of a query group (512 KiB) */

typedef struct {
    pf_cpu_ctx *c;
    pf_tensor *d;
    const pf_cpu_gemm_kernel *k;
    int64_t B, Nq, Nk, H, D, Dv, QB, qbp, nqb, G, ngroups, dvp;
    int mode;
    float scale;
    const int32_t *qm, *km; /* [B, N] metadata (frame * 2 + valid) */
    const float *bias;      /* [H, Nq, Nk] or NULL */
    /* per-thread scratch layout, in floats: Kp | Vp | S^T | Pp | 6 query vectors | G x (Qp | O | m | l) */
    size_t off_vp, off_s, off_pp, off_vec, off_grp, grp_stride, grp_o, grp_m, grp_l;
} pf_att_job;

/* Summary of the (valid, frame) pairs in a run of frame-mask metadata. */
typedef struct {
    int32_t vmin, vmax, imin, imax; /* frame range of valid / invalid tokens (min > max: none) */
} pf_att_span;

static pf_att_span pf_att_span_of(const int32_t *m, int64_t n) {
    pf_att_span s = {INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN};
    for (int64_t i = 0; i < n; i++) {
        int32_t f = m[i] >> 1;
        if (m[i] & 1) {
            s.vmin = PF_MIN(s.vmin, f);
            s.vmax = PF_MAX(s.vmax, f);
        } else {
            s.imin = PF_MIN(s.imin, f);
            s.imax = PF_MAX(s.imax, f);
        }
    }
    return s;
}

/* What the mask shows of key block [k0, k0 + kb) to query block [q0, q0 + qb):
 * 0 nothing, 1 some pairs, 2 every pair. */
static int pf_att_block_vis(const pf_att_job *jb, int64_t q0, int64_t qb, int64_t k0, int64_t kb,
                            const pf_att_span *qs, const pf_att_span *ks, int kvalid) {
    switch (jb->mode) {
    case PF_MASK_CAUSAL:
        if (k0 > q0 + qb - 1) return 0;
        return k0 + kb - 1 <= q0 ? 2 : 1;
    case PF_MASK_KEY: return kvalid == 0 ? 0 : kvalid == kb ? 2 : 1;
    case PF_MASK_FRAME: {
        /* some pair allowed: a valid (invalid) query whose frame reaches a valid (invalid) key's */
        bool any = (qs->vmin <= qs->vmax && ks->vmin <= ks->vmax && qs->vmax >= ks->vmin) ||
                   (qs->imin <= qs->imax && ks->imin <= ks->imax && qs->imax >= ks->imin);
        if (!any) return 0;
        bool q_all_valid = qs->imin > qs->imax, q_all_invalid = qs->vmin > qs->vmax;
        bool k_all_valid = ks->imin > ks->imax, k_all_invalid = ks->vmin > ks->vmax;
        if (q_all_valid && k_all_valid && qs->vmin >= ks->vmax) return 2;
        if (q_all_invalid && k_all_invalid && qs->imin >= ks->imax) return 2;
        return 1;
    }
    default: return 2;
    }
}

static void pf_att_task(void *ctx, int64_t t0, int64_t t1, int thread) {
    const pf_att_job *jb = ctx;
    const pf_cpu_gemm_kernel *k = jb->k;
    const pf_tensor *q = jb->d->src[0], *kt = jb->d->src[1], *v = jb->d->src[2];
    int64_t H = jb->H, D = jb->D, Dv = jb->Dv, Nq = jb->Nq, Nk = jb->Nk, QB = jb->QB, dvp = jb->dvp, ld = jb->qbp;
    size_t qes = pf_dtype_size(q->dtype), kes = pf_dtype_size(kt->dtype), ves = pf_dtype_size(v->dtype);
    float *scr = pf_cpu_thread_scratch(jb->c, thread);
    float *Kp = scr, *Vp = scr + jb->off_vp, *ST = scr + jb->off_s, *Pp = scr + jb->off_pp, *vec = scr + jb->off_vec;
    float *bm = vec, *msub = vec + ld, *corr = vec + 2 * ld, *lsum = vec + 3 * ld;
    int32_t *qv = (int32_t *)(vec + 4 * ld), *qf = qv + ld; /* frame mask: validity and frame per query */
    pf_cpu_mat PT = pf_cpu_mat_make(ST, PF_F32, 1, ld); /* P(i, j) = P^T[j][i] */

    for (int64_t task = t0; task < t1; task++) {
        int64_t grp = task % jb->ngroups, h = (task / jb->ngroups) % H, b = task / (jb->ngroups * H);
        int64_t qb0 = grp * jb->G, nblk = PF_MIN(jb->G, jb->nqb - qb0); /* query blocks of this task */
        const int32_t *qm = jb->qm ? jb->qm + b * Nq : NULL, *km = jb->km ? jb->km + b * Nk : NULL;
        /* Q^T(e, i) = q[b, i, h, e]; K(j, e) = k[b, j, h, e]; V(j, e) = v[b, j, h, e] */
        pf_cpu_mat Qt = pf_cpu_mat_make((const char *)pf_cpu_data(q) + (size_t)((b * Nq * H + h) * D) * qes, q->dtype,
                                        1, H * D);
        pf_cpu_mat Km = pf_cpu_mat_make((const char *)pf_cpu_data(kt) + (size_t)((b * Nk * H + h) * D) * kes, kt->dtype,
                                        H * D, 1);
        pf_cpu_mat Vm = pf_cpu_mat_make((const char *)pf_cpu_data(v) + (size_t)((b * Nk * H + h) * Dv) * ves, v->dtype,
                                        H * Dv, 1);
        pf_att_span qspan[64];
        int64_t kend = 0;
        for (int64_t g = 0; g < nblk; g++) {
            float *st = scr + jb->off_grp + g * jb->grp_stride;
            float *O = st + jb->grp_o, *mrow = st + jb->grp_m, *lrow = st + jb->grp_l;
            int64_t q0 = (qb0 + g) * QB, qb = PF_MIN(QB, Nq - q0);
            pf_cpu_pack_b(&Qt, 0, D, q0, qb, k->nr, st);
            for (int64_t i = 0; i < qb; i++) {
                mrow[i] = -INFINITY;
                lrow[i] = 0.0f;
                for (int64_t e = 0; e < Dv; e++) O[i * dvp + e] = 0.0f;
            }
            if (jb->mode == PF_MASK_FRAME) qspan[g] = pf_att_span_of(qm + q0, qb);
            kend = jb->mode == PF_MASK_CAUSAL ? PF_MAX(kend, PF_MIN(Nk, q0 + qb)) : Nk;
        }

        for (int64_t k0 = 0; k0 < kend; k0 += PF_ATT_KB) {
            int64_t kb = PF_MIN((int64_t)PF_ATT_KB, kend - k0);
            pf_att_span ks = {0, 0, 0, 0};
            int kvalid = 0;
            if (jb->mode == PF_MASK_FRAME) ks = pf_att_span_of(km + k0, kb);
            if (jb->mode == PF_MASK_KEY)
                for (int64_t j = 0; j < kb; j++) kvalid += km[k0 + j] & 1;
            bool packed = false;
            for (int64_t g = 0; g < nblk; g++) {
                float *st = scr + jb->off_grp + g * jb->grp_stride;
                float *Qp = st, *O = st + jb->grp_o, *mrow = st + jb->grp_m, *lrow = st + jb->grp_l;
                int64_t q0 = (qb0 + g) * QB, qb = PF_MIN(QB, Nq - q0);
                int vis = pf_att_block_vis(jb, q0, qb, k0, kb, &qspan[g], &ks, kvalid);
                if (vis == 0) continue;
                if (!packed) { /* first query block that needs this key block */
                    pf_cpu_pack_a(&Km, k0, kb, 0, D, k->mr, Kp);
                    pf_cpu_pack_b(&Vm, k0, kb, 0, Dv, k->nr, Vp);
                    packed = true;
                }
                pf_cpu_gemm_packed(k, kb, qb, D, Kp, Qp, ST, ld, jb->scale, 0.0f);
                if (jb->bias)
                    for (int64_t i = 0; i < qb; i++) {
                        const float *br = jb->bias + (h * Nq + q0 + i) * Nk + k0;
                        for (int64_t j = 0; j < kb; j++) ST[j * ld + i] += br[j];
                    }
                if (vis == 1) {
                    if (jb->mode == PF_MASK_FRAME)
                        for (int64_t i = 0; i < qb; i++) {
                            qv[i] = qm[q0 + i] & 1;
                            qf[i] = qm[q0 + i] >> 1;
                        }
                    for (int64_t j = 0; j < kb; j++) {
                        float *s = ST + j * ld;
                        switch (jb->mode) {
                        case PF_MASK_CAUSAL: /* key k0 + j is visible from queries q0 + i >= k0 + j */
                            for (int64_t i = 0; i < PF_MIN(qb, k0 + j - q0); i++) s[i] = -INFINITY;
                            break;
                        case PF_MASK_KEY:
                            if (!(km[k0 + j] & 1))
                                for (int64_t i = 0; i < qb; i++) s[i] = -INFINITY;
                            break;
                        case PF_MASK_FRAME: {
                            int32_t kv = km[k0 + j] & 1, kf = km[k0 + j] >> 1;
                            for (int64_t i = 0; i < qb; i++) s[i] = (qv[i] == kv && qf[i] >= kf) ? s[i] : -INFINITY;
                            break;
                        }
                        default: break;
                        }
                    }
                }
                /* column maxima, then the running statistics per query */
                for (int64_t i = 0; i < qb; i++) bm[i] = -INFINITY;
                for (int64_t j = 0; j < kb; j++) {
                    const float *s = ST + j * ld;
                    for (int64_t i = 0; i < qb; i++) bm[i] = s[i] > bm[i] ? s[i] : bm[i];
                }
                bool rescale = false;
                for (int64_t i = 0; i < qb; i++) {
                    float mnew = bm[i] > mrow[i] ? bm[i] : mrow[i];
                    /* a query with nothing visible yet keeps m = -inf; exp(-inf - 0) = 0 gives its zero column */
                    msub[i] = mnew == -INFINITY ? 0.0f : mnew;
                    corr[i] = mrow[i] == -INFINITY ? 0.0f : expf(mrow[i] - mnew);
                    rescale |= corr[i] != 1.0f;
                    mrow[i] = mnew;
                    lsum[i] = 0.0f;
                }
                for (int64_t j = 0; j < kb; j++) {
                    float *s = ST + j * ld;
                    pf_cpu_vexp_subv(s, s, msub, qb);
                    for (int64_t i = 0; i < qb; i++) lsum[i] += s[i];
                }
                for (int64_t i = 0; i < qb; i++) lrow[i] = lrow[i] * corr[i] + lsum[i];
                if (rescale)
                    for (int64_t i = 0; i < qb; i++)
                        if (corr[i] != 1.0f) {
                            float *orow = O + i * dvp;
                            for (int64_t e = 0; e < Dv; e++) orow[e] *= corr[i];
                        }
                pf_cpu_pack_a(&PT, 0, qb, 0, kb, k->mr, Pp);
                pf_cpu_gemm_packed(k, qb, Dv, kb, Pp, Vp, O, dvp, 1.0f, 1.0f);
            }
        }

        /* o[b, q0 + i, h, :] = O_i / l_i */
        char *op = (char *)pf_cpu_data(jb->d);
        size_t oes = pf_dtype_size(jb->d->dtype);
        for (int64_t g = 0; g < nblk; g++) {
            float *st = scr + jb->off_grp + g * jb->grp_stride;
            float *O = st + jb->grp_o, *lrow = st + jb->grp_l;
            int64_t q0 = (qb0 + g) * QB, qb = PF_MIN(QB, Nq - q0);
            for (int64_t i = 0; i < qb; i++) {
                float inv = lrow[i] > 0.0f ? 1.0f / lrow[i] : 0.0f;
                float *orow = O + i * dvp;
                for (int64_t e = 0; e < Dv; e++) orow[e] *= inv;
                pf_cpu_from_f32(op + (size_t)(((b * Nq + q0 + i) * H + h) * Dv) * oes, jb->d->dtype, orow, Dv);
            }
        }
    }
}

pf_status pf_cpu_fast_attention(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *q = d->src[0], *k = d->src[1], *v = d->src[2];
    pf_att_job jb = {.c = c, .d = d, .k = pf_cpu_gemm_kernel_get()};
    jb.B = q->ne[0];
    jb.Nq = q->ne[1];
    jb.H = q->ne[2];
    jb.D = q->ne[3];
    jb.Nk = k->ne[1];
    jb.Dv = v->ne[3];
    jb.mode = d->ip[0];
    jb.scale = d->fp[0];
    jb.qm = d->src[3] ? pf_cpu_data(d->src[3]) : NULL;
    jb.km = d->src[4] ? pf_cpu_data(d->src[4]) : NULL;
    jb.bias = d->src[5] ? pf_cpu_data(d->src[5]) : NULL;
    if ((jb.mode == PF_MASK_FRAME && (!jb.qm || !jb.km)) || (jb.mode == PF_MASK_KEY && !jb.km))
        return pf_error(PF_ERR_INVALID_ARG, "attention: mask mode %d without its metadata", jb.mode);
    if (jb.Nq == 0) return PF_OK;
    if (jb.Nk == 0) { /* no keys: every query row sees nothing */
        memset(pf_cpu_data(d), 0, pf_nbytes(d));
        return PF_OK;
    }
    const pf_cpu_gemm_kernel *kk = jb.k;
    /* queries per block: a multiple of MR (P as A) and of NR (Q^T as B: full slivers) */
    int64_t lcm = kk->mr;
    while (lcm % kk->nr) lcm += kk->mr;
    jb.QB = PF_ALIGN_UP(PF_ATT_QB_MIN, lcm);
    jb.qbp = jb.QB;
    jb.nqb = PF_CEIL_DIV(jb.Nq, jb.QB);
    jb.dvp = PF_ALIGN_UP(jb.Dv, kk->nr);
    /* per query block of a group: packed Q^T, O accumulator, running max and sum */
    jb.grp_o = PF_ALIGN_UP(pf_cpu_pack_b_size(kk, jb.D, jb.QB), 16);
    jb.grp_m = jb.grp_o + (size_t)(jb.QB * jb.dvp);
    jb.grp_l = jb.grp_m + PF_ALIGN_UP((size_t)jb.QB, 16);
    jb.grp_stride = jb.grp_l + PF_ALIGN_UP((size_t)jb.QB, 16);
    /* group as many query blocks as the budget allows (each packed key block then serves them
     * all), but keep at least 4 tasks per thread for the balance */
    int threads = c->n_threads > 0 ? c->n_threads : 1;
    int64_t G = PF_MAX(1, PF_MIN(64, (int64_t)(PF_ATT_GROUP_FLOATS / jb.grp_stride)));
    G = PF_MIN(G, jb.nqb);
    while (G > 1 && jb.B * jb.H * PF_CEIL_DIV(jb.nqb, G) < 4 * threads) G = PF_CEIL_DIV(G, 2);
    jb.G = G;
    jb.ngroups = PF_CEIL_DIV(jb.nqb, G);
    jb.off_vp = PF_ALIGN_UP(pf_cpu_pack_a_size(kk, PF_ATT_KB, jb.D), 16);
    jb.off_s = jb.off_vp + PF_ALIGN_UP(pf_cpu_pack_b_size(kk, PF_ATT_KB, jb.Dv), 16);
    jb.off_pp = jb.off_s + (size_t)(PF_ATT_KB * jb.qbp);
    jb.off_vec = jb.off_pp + PF_ALIGN_UP(pf_cpu_pack_a_size(kk, jb.QB, PF_ATT_KB), 16);
    jb.off_grp = jb.off_vec + (size_t)(6 * jb.qbp);
    PF_TRY(pf_cpu_thread_scratch_reserve(c, (jb.off_grp + (size_t)G * jb.grp_stride) * sizeof(float)));
    pf_parallel_for(c->pool, jb.B * jb.H * jb.ngroups, 1, pf_att_task, &jb);
    return PF_OK;
}
