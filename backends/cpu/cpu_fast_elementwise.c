/*
 * Fast kernels: element-wise ops (add, sub, mul, scale, unary, modulate,
 * gated_add, and the float casts of cpy) over any strides with broadcasting.
 *
 * The operands are walked as runs (cpu_iter.h) cut into chunks of PF_EW_CH
 * elements. Per chunk, every source is either used in place (f32 with unit
 * stride) or gathered/converted into a small f32 buffer (bf16, broadcast,
 * strided); the op runs on plain f32 arrays into a private buffer (so the
 * loops vectorise and dst may be src0's memory: in-place execution), and the
 * result is stored to dst with its own dtype and stride. Threaded over chunks.
 */
#include "cpu_gemm.h"
#include "cpu_iter.h"
#include "cpu_vmath.h"

#define PF_EW_CH 1024

typedef struct {
    pf_cpu_iter it; /* operand 0 = dst, 1.. = sources */
    int nsrc;
    char *base[PF_ITER_MAX_OPS];
    pf_dtype dt[PF_ITER_MAX_OPS];
    int64_t nchunks; /* per run */
    pf_op op;
    int unary;
    float f0, f1;
} pf_ew_job;

/* n elements from p (element offset o, stride s) as f32: the memory itself or buf. */
static const float *pf_ew_load(const char *p, pf_dtype dt, int64_t o, int64_t s, int64_t n, float *buf) {
    if (dt == PF_F32 && s == 1) return (const float *)p + o;
    if (s == 0) {
        float v = pf_cpu_ldf(p, dt, o);
        for (int64_t i = 0; i < n; i++) buf[i] = v;
    } else if (s == 1) {
        pf_cpu_to_f32(buf, p + (size_t)o * pf_dtype_size(dt), dt, n);
    } else if (dt == PF_F32) {
        const float *f = (const float *)p + o;
        for (int64_t i = 0; i < n; i++) buf[i] = f[i * s];
    } else {
        for (int64_t i = 0; i < n; i++) buf[i] = pf_cpu_ldf(p, dt, o + i * s);
    }
    return buf;
}

static void pf_ew_store(char *p, pf_dtype dt, int64_t o, int64_t s, const float *v, int64_t n) {
    if (s == 1) {
        pf_cpu_from_f32(p + (size_t)o * pf_dtype_size(dt), dt, v, n);
    } else if (dt == PF_F32) {
        float *f = (float *)p + o;
        for (int64_t i = 0; i < n; i++) f[i * s] = v[i];
    } else {
        for (int64_t i = 0; i < n; i++) pf_cpu_stf(p, dt, o + i * s, v[i]);
    }
}

/* The ops on f32 arrays; o never aliases the inputs. Rounding as the reference kernels. */
static void pf_ew_add(float *restrict o, const float *restrict a, const float *restrict b, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = a[i] + b[i];
}
static void pf_ew_sub(float *restrict o, const float *restrict a, const float *restrict b, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = a[i] - b[i];
}
static void pf_ew_mul(float *restrict o, const float *restrict a, const float *restrict b, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = a[i] * b[i];
}
static void pf_ew_scale(float *restrict o, const float *restrict a, float m, float c, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = a[i] * m + c;
}
/* x * (1 + scale) + shift */
static void pf_ew_modulate(float *restrict o, const float *restrict x, const float *restrict shift,
                           const float *restrict scale, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float t = x[i] * (1.0f + scale[i]);
        o[i] = t + shift[i];
    }
}
/* x + gate * y */
static void pf_ew_gated_add(float *restrict o, const float *restrict x, const float *restrict g,
                            const float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float gy = g[i] * y[i];
        o[i] = x[i] + gy;
    }
}

static void pf_ew_task(void *ctx, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const pf_ew_job *jb = ctx;
    const pf_cpu_iter *it = &jb->it;
    int last = it->ndim - 1;
    int64_t inner = it->ne[last];
    float out[PF_EW_CH], buf[3][PF_EW_CH];
    const float *in[3] = {NULL, NULL, NULL};
    for (int64_t t = t0; t < t1; t++) {
        int64_t row = t / jb->nchunks, j0 = (t % jb->nchunks) * PF_EW_CH, n = PF_MIN((int64_t)PF_EW_CH, inner - j0);
        int64_t offs[PF_ITER_MAX_OPS];
        pf_cpu_iter_row(it, row, offs);
        for (int k = 1; k <= jb->nsrc; k++) {
            int64_t s = it->st[k][last];
            in[k - 1] = pf_ew_load(jb->base[k], jb->dt[k], offs[k] + j0 * s, s, n, buf[k - 1]);
        }
        int64_t s0 = it->st[0][last];
        if (jb->op == PF_OP_CPY) { /* a conversion: no arithmetic */
            pf_ew_store(jb->base[0], jb->dt[0], offs[0] + j0 * s0, s0, in[0], n);
            continue;
        }
        switch (jb->op) {
        case PF_OP_ADD: pf_ew_add(out, in[0], in[1], n); break;
        case PF_OP_SUB: pf_ew_sub(out, in[0], in[1], n); break;
        case PF_OP_MUL: pf_ew_mul(out, in[0], in[1], n); break;
        case PF_OP_SCALE: pf_ew_scale(out, in[0], jb->f0, jb->f1, n); break;
        case PF_OP_UNARY: pf_cpu_vunary(jb->unary, out, in[0], n); break;
        case PF_OP_MODULATE: pf_ew_modulate(out, in[0], in[1], in[2], n); break;
        case PF_OP_GATED_ADD: pf_ew_gated_add(out, in[0], in[1], in[2], n); break;
        default: break;
        }
        pf_ew_store(jb->base[0], jb->dt[0], offs[0] + j0 * s0, s0, out, n);
    }
}

static pf_status pf_ew_run(pf_cpu_ctx *c, pf_tensor *d, int nsrc) {
    pf_ew_job jb = {.nsrc = nsrc, .op = d->op, .unary = d->ip[0], .f0 = d->fp[0], .f1 = d->fp[1]};
    const int64_t *st[PF_ITER_MAX_OPS] = {d->st};
    jb.base[0] = pf_cpu_data(d);
    jb.dt[0] = d->dtype;
    for (int k = 0; k < nsrc; k++) {
        const pf_tensor *s = d->src[k];
        if (s->ndim != d->ndim) return pf_error(PF_ERR_SHAPE, "%s: operand %d has rank %d, dst %d", pf_op_name(d->op), k, s->ndim, d->ndim);
        st[k + 1] = s->st;
        jb.base[k + 1] = pf_cpu_data(s);
        jb.dt[k + 1] = s->dtype;
    }
    /* broadcast dims (size 1 in a source, larger in dst) step by 0 in that source */
    int64_t bst[3][PF_MAX_DIMS];
    for (int k = 0; k < nsrc; k++) {
        for (int i = 0; i < d->ndim; i++) bst[k][i] = d->src[k]->ne[i] == 1 ? 0 : d->src[k]->st[i];
        st[k + 1] = bst[k];
    }
    pf_cpu_iter_init(&jb.it, nsrc + 1, d->ndim, d->ne, st);
    int64_t inner = jb.it.ne[jb.it.ndim - 1];
    jb.nchunks = PF_CEIL_DIV(inner, PF_EW_CH);
    int64_t tasks = jb.it.rows * jb.nchunks;
    int64_t per_task = PF_MIN(inner, (int64_t)PF_EW_CH);
    pf_parallel_for(c->pool, tasks, PF_MAX(1, 32768 / PF_MAX(per_task, 1)), pf_ew_task, &jb);
    return PF_OK;
}

/* cpy between two float dtypes (cast), any source strides */
pf_status pf_cpu_ew_convert(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 1); }

pf_status pf_cpu_fast_binary(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 2); }
pf_status pf_cpu_fast_scale(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 1); }
pf_status pf_cpu_fast_unary(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 1); }
pf_status pf_cpu_fast_modulate(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 3); }
pf_status pf_cpu_fast_gated_add(pf_cpu_ctx *c, pf_tensor *d) { return pf_ew_run(c, d, 3); }
