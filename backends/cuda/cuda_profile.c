/*
 * PF_CUDA_PROFILE=1: where a call's GPU time goes, without nsys.
 *
 * Each computed node, or fused pair, is bracketed by two cudaEvents recorded on the
 * backend stream (pf_cuda_run_nodes). The stream runs one kernel at a time, so a
 * bracket holds only its node's work; the events' own cost (a few microseconds each)
 * lands outside the kernels but inside the call's wall time. CUDA graphs are off in
 * this mode: a replayed graph has no per-node boundaries to time.
 *
 * The events come from a pool that grows to the most brackets one synchronisation has
 * seen (a DiT call: ~1000 nodes, ~2000 events) and is reused by later calls. They are
 * created with default flags: cudaEventDisableTiming would make cudaEventElapsedTime
 * fail. Times are read after the stream is synchronised (cuda_synchronize), filed in
 * the shared per-key table (runtime/pf_profile.c) and printed after each compute, as
 * PF_VK_PROFILE does; PF_CUDA_PROFILE=total keeps adding to the table and prints it once,
 * when the backend is freed (a VAE decode synchronises after each of its chunk runs).
 */
#include "cuda_impl.h"

static pf_status pf_prof_grow(pf_cuda_ctx *c) {
    int cap = c->cap_marks ? 2 * c->cap_marks : 256;
    pf_cuda_prof_mark *m = realloc(c->marks, (size_t)cap * sizeof *m);
    if (!m) return pf_error(PF_ERR_OOM, "out of host memory (CUDA profile of %d nodes)", cap);
    memset(m + c->cap_marks, 0, (size_t)(cap - c->cap_marks) * sizeof *m);
    c->marks = m;
    c->cap_marks = cap;
    return PF_OK;
}

pf_status pf_cuda_prof_begin(pf_cuda_ctx *c) {
    if (!c->profile) return PF_OK;
    c->mark_open = false;
    if (c->n_marks == c->cap_marks) PF_TRY(pf_prof_grow(c));
    pf_cuda_prof_mark *m = &c->marks[c->n_marks];
    for (int k = 0; k < 2; k++)
        if (!m->ev[k])
            PF_CUDA_TRY(cudaEventCreate(&m->ev[k]), "creating timing event %d for the CUDA profile (PF_CUDA_PROFILE)",
                        2 * c->n_marks + k);
    PF_CUDA_TRY(cudaEventRecord(m->ev[0], c->stream), "recording a node's start for the CUDA profile");
    c->mark_open = true;
    return PF_OK;
}

pf_status pf_cuda_prof_end(pf_cuda_ctx *c, const pf_tensor *p, const pf_tensor *q) {
    if (!c->profile || !c->mark_open) return PF_OK;
    pf_cuda_prof_mark *m = &c->marks[c->n_marks];
    c->mark_open = false;
    PF_CUDA_TRY(cudaEventRecord(m->ev[1], c->stream), "recording the end of %s '%s' for the CUDA profile",
                pf_op_name(p->op), p->name);
    m->op = p->op;
    m->op2 = q ? q->op : PF_OP_NONE;
    pf_prof_key(p, q, m->key, sizeof m->key);
    c->n_marks++;
    return PF_OK;
}

pf_status pf_cuda_prof_collect(pf_cuda_ctx *c) {
    const int n = c->n_marks;
    if (!c->profile || n == 0) return PF_OK;
    c->n_marks = 0; /* whatever happens below, these events are free for the next call */
    pf_cuda_profile *L = &c->prof_last;
    *L = (pf_cuda_profile){.enabled = true, .n_total = L->n_total};
    for (int i = 0; i < n; i++) {
        const pf_cuda_prof_mark *m = &c->marks[i];
        float ms = 0.0f;
        PF_CUDA_TRY(cudaEventElapsedTime(&ms, m->ev[0], m->ev[1]), "reading the GPU time of '%s' (PF_CUDA_PROFILE)",
                    m->key);
        PF_TRY(pf_prof_add(&c->prof, m->key, m->op, m->op2, (double)ms));
        if (L->n_brackets == 0 || ms < L->min_ms) L->min_ms = ms;
        if (L->n_brackets == 0 || ms > L->max_ms) L->max_ms = ms;
        L->n_brackets++;
        L->n_pairs += m->op2 != PF_OP_NONE;
        L->total_ms += ms;
        L->n_total++;
    }
    L->n_rows = c->prof.n_rows;
    L->table_ms = c->prof.total_ms;
    return PF_OK;
}

void pf_cuda_prof_report(pf_cuda_ctx *c) {
    pf_prof_print(&c->prof, "cuda", c->name, stderr);
    pf_prof_reset(&c->prof);
}

void pf_cuda_prof_free(pf_cuda_ctx *c) {
    for (int i = 0; i < c->cap_marks; i++)
        for (int k = 0; k < 2; k++)
            if (c->marks[i].ev[k]) (void)cudaEventDestroy(c->marks[i].ev[k]);
    (void)cudaGetLastError();
    free(c->marks);
    c->marks = NULL;
    c->n_marks = c->cap_marks = 0;
    pf_prof_free(&c->prof);
}

pf_status pf_cuda_profile_get(pf_backend *be, pf_cuda_profile *out) {
    memset(out, 0, sizeof *out);
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_profile_get: not a CUDA backend");
    const pf_cuda_ctx *c = be->ctx;
    *out = c->prof_last;
    out->enabled = c->profile;
    return PF_OK;
}
