/* Helpers shared by the text encoders: config keys, activations, ids. */
#include "text_impl.h"

pf_status pf_text_cfg_eps(const pf_json *j, const char *key, double def, float *out) {
    double v = def;
    if (pf_json_has(j, key)) PF_TRY(pf_json_num(j, key, &v));
    if (!(v > 0.0 && v < 1.0))
        return pf_error(PF_ERR_FORMAT, "%s: \"%s\" is %g, expected a small positive number", pf_json_label(j), key, v);
    *out = (float)v;
    return PF_OK;
}

static const struct {
    const char *name;
    pf_unary f;
} pf_text_acts[] = {
    /* the first name of each op is the one written back (pf_text_act_name) */
    {"gelu_new", PF_UNARY_GELU_TANH}, {"gelu_pytorch_tanh", PF_UNARY_GELU_TANH}, {"gelu_fast", PF_UNARY_GELU_TANH},
    {"gelu", PF_UNARY_GELU_ERF},      {"quick_gelu", PF_UNARY_QUICK_GELU},       {"silu", PF_UNARY_SILU},
    {"swish", PF_UNARY_SILU},
};

pf_status pf_text_parse_act(const char *name, const char *label, const char *key, pf_unary *out) {
    for (size_t i = 0; i < PF_ARRAY_LEN(pf_text_acts); i++)
        if (!strcmp(name, pf_text_acts[i].name)) {
            *out = pf_text_acts[i].f;
            return PF_OK;
        }
    return pf_error(PF_ERR_UNSUPPORTED,
                    "%s: \"%s\" activation '%s' is not supported (gelu_new, gelu_pytorch_tanh, gelu, quick_gelu, silu)",
                    label, key, name);
}

const char *pf_text_act_name(pf_unary f) {
    for (size_t i = 0; i < PF_ARRAY_LEN(pf_text_acts); i++)
        if (pf_text_acts[i].f == f) return pf_text_acts[i].name;
    return "?";
}

pf_status pf_text_check_dtype(pf_dtype dt, const char *what) {
    if (dt == PF_F32 || dt == PF_BF16 || dt == PF_F16) return PF_OK;
    return pf_error(PF_ERR_INVALID_ARG, "%s: weights dtype %s not supported (f32, bf16, f16)", what,
                    (unsigned)dt < PF_DTYPE_COUNT ? pf_dtype_name(dt) : "?");
}

pf_status pf_text_check_ids(const int32_t *ids, int B, int L, int vocab, const char *what) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < L; i++) {
            int32_t id = ids[(size_t)b * (size_t)L + (size_t)i];
            if (id < 0 || id >= vocab)
                return pf_error(PF_ERR_INVALID_ARG, "%s: input id %d at [%d, %d] is outside the vocabulary (0..%d)",
                                what, (int)id, b, i, vocab - 1);
        }
    return PF_OK;
}

void pf_clip_eos_positions(const int32_t *ids, int B, int L, int eos_token_id, int32_t *pos) {
    for (int b = 0; b < B; b++) {
        const int32_t *row = ids + (size_t)b * (size_t)L;
        int p = 0;
        if (eos_token_id == 2) {
            /* transformers keeps this for configs written before the tokenizer's EOS id was
             * stored: the EOS token has the largest id of the CLIP vocabulary */
            for (int i = 1; i < L; i++)
                if (row[i] > row[p]) p = i;
        } else {
            for (int i = 0; i < L; i++)
                if (row[i] == eos_token_id) {
                    p = i;
                    break;
                }
        }
        pos[b] = p;
    }
}
