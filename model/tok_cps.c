/* Code-point arrays: ftfy's fixes and the CLIP regex work on code points. */
#include "tok_clip_internal.h"

pf_status pf_tok_cps_push(pf_tok_cps *a, int32_t cp) {
    if (a->n == a->cap) {
        if (a->cap > SIZE_MAX / 8) return pf_error(PF_ERR_OOM, "tokenizer: text too large");
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = pf_realloc(a->v, cap * sizeof *v, "tokenizer text");
        if (!v) return PF_ERR_OOM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = cp;
    return PF_OK;
}

pf_status pf_tok_cps_from_utf8(pf_tok_cps *a, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        int32_t c;
        i += (size_t)pf_tok_utf8_next(s + i, n - i, &c);
        PF_TRY(pf_tok_cps_push(a, c));
    }
    return PF_OK;
}

pf_status pf_tok_cps_to_utf8(const int32_t *v, size_t n, pf_tok_buf *out) {
    PF_TRY(pf_tok_buf_reserve(out, n));
    for (size_t i = 0; i < n; i++) PF_TRY(pf_tok_buf_put_cp(out, v[i]));
    return PF_OK;
}

void pf_tok_cps_free(pf_tok_cps *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}
