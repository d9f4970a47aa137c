/* The file noise source: recorded draws (golden names) replayed in order. */
#include "noise_impl.h"

static pf_status pf_file_draw(pf_noise *n, pf_draw_kind kind, int index, const int64_t shape[5], float *out) {
    char name[64];
    if (kind == PF_DRAW_INITIAL) snprintf(name, sizeof name, "in.noise_init");
    else if (kind == PF_DRAW_POSTERIOR) snprintf(name, sizeof name, "in.posterior_noise");
    else snprintf(name, sizeof name, "in.block_noise_%03d", index);

    const pf_st_tensor *t = pf_st_find(n->file, name);
    if (!t) {
        if (kind == PF_DRAW_BLOCK)
            return pf_error(PF_ERR_NOT_FOUND,
                            "noise file '%s' has no %s: the pipeline needs block-noise draw %d but the file holds %d "
                            "(other steps, sizes or frame count than the recording?)",
                            pf_st_path(n->file), name, index + 1, n->file_blocks);
        return pf_error(PF_ERR_NOT_FOUND, "noise file '%s' has no %s", pf_st_path(n->file), name);
    }
    if (!pf_dtype_is_float(t->dtype))
        return pf_error(PF_ERR_FORMAT, "noise file '%s': %s has dtype %s, expected a float type", pf_st_path(n->file),
                        name, pf_dtype_name(t->dtype));
    /* The recorded shape must be exactly the one the pipeline asks for. */
    int64_t want = 1, have = 1;
    for (int i = 0; i < 5; i++) want *= shape[i];
    for (int i = 0; i < t->ndim; i++) have *= t->shape[i];
    bool same = t->ndim == 5;
    for (int i = 0; same && i < 5; i++) same = t->shape[i] == shape[i];
    if (!same || want != have) {
        char got[128] = "[";
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        snprintf(got + strlen(got), sizeof got - strlen(got), "]");
        return pf_error(PF_ERR_SHAPE, "noise file '%s': %s is %s, the pipeline needs [%lld, %lld, %lld, %lld, %lld]",
                        pf_st_path(n->file), name, got, (long long)shape[0], (long long)shape[1], (long long)shape[2],
                        (long long)shape[3], (long long)shape[4]);
    }
    pf_convert(out, PF_F32, t->data, t->dtype, (size_t)want);
    return PF_OK;
}

static void pf_file_destroy(pf_noise *n) {
    if (n->owned) pf_st_close(n->owned);
    free(n);
}

pf_status pf_noise_from_st(const pf_st_file *f, pf_noise **out) {
    *out = NULL;
    if (!f) return pf_error(PF_ERR_INVALID_ARG, "noise source: NULL file");
    pf_noise *n = pf_calloc(1, sizeof *n, "noise source");
    if (!n) return PF_ERR_OOM;
    n->draw = pf_file_draw;
    n->destroy = pf_file_destroy;
    n->file = f;
    char name[64];
    for (;;) {
        snprintf(name, sizeof name, "in.block_noise_%03d", n->file_blocks);
        if (!pf_st_find(f, name)) break;
        n->file_blocks++;
    }
    snprintf(n->desc, sizeof n->desc, "file %s", pf_st_path(f));
    *out = n;
    return PF_OK;
}

pf_status pf_noise_open_file(const char *path, pf_noise **out) {
    *out = NULL;
    pf_st_file *f = NULL;
    pf_status rc = pf_st_open(path, &f);
    if (rc != PF_OK) return pf_error_wrap(rc, "noise file");
    rc = pf_noise_from_st(f, out);
    if (rc != PF_OK) {
        pf_st_close(f);
        return rc;
    }
    (*out)->owned = f;
    return PF_OK;
}
