/*
 * Loading the T5 tokenizer configuration: tokenizer.json (the `tokenizers`
 * serialization, what T5TokenizerFast loads) or, when a folder has only
 * spiece.model, the conversion transformers' T5Converter would make of it.
 */
#include "tok_t5.h"

#include <cjson/cJSON.h>
#include <utf8proc.h>

/* ---- small JSON accessors with file-naming errors ---- */

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static pf_status jbool(const char *label, const cJSON *o, const char *k, bool def, bool *out) {
    *out = def; /* outputs are always written: callers read them only on PF_OK, the compiler cannot tell */
    const cJSON *v = jget(o, k);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return PF_OK;
    }
    if (!cJSON_IsBool(v)) return pf_error(PF_ERR_FORMAT, "%s: \"%s\" should be true or false", label, k);
    *out = cJSON_IsTrue(v);
    return PF_OK;
}

static pf_status jint(const char *label, const cJSON *v, const char *what, int64_t lo, int64_t hi, int64_t *out) {
    *out = 0;
    if (!cJSON_IsNumber(v)) return pf_error(PF_ERR_FORMAT, "%s: %s should be an integer", label, what);
    double d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d)
        return pf_error(PF_ERR_FORMAT, "%s: %s = %g is not an integer in [%lld, %lld]", label, what, d, (long long)lo,
                        (long long)hi);
    *out = (int64_t)d;
    return PF_OK;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- base64 (the Precompiled normalizer's charsmap) ---- */

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static pf_status base64_decode(const char *label, const char *s, uint8_t **out, size_t *len) {
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=') n--;
    uint8_t *d = pf_malloc(n * 3 / 4 + 3, "precompiled_charsmap");
    if (!d) return PF_ERR_OOM;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(d);
            return pf_error(PF_ERR_FORMAT, "%s: precompiled_charsmap is not valid base64 (byte %zu)", label, i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = d;
    *len = o;
    return PF_OK;
}

/* ---- normalizer ---- */

static pf_status add_precompiled(pf_tok_t5 *t, const uint8_t *blob, size_t len) {
    t5_norm n = {.kind = NORM_PRECOMPILED};
    PF_TRY(pf_tok_charsmap_init(&n.cm, blob, len, t->label));
    pf_status st = pf_tok_t5_push_norm(t, n);
    if (st != PF_OK) pf_tok_charsmap_free(&n.cm);
    return st;
}

static pf_status parse_normalizer(pf_tok_t5 *t, const cJSON *o, int depth) {
    if (!o || cJSON_IsNull(o)) return PF_OK;
    if (depth > 8) return pf_error(PF_ERR_UNSUPPORTED, "%s: normalizers nested too deeply", t->label);
    const char *type = jstr(o, "type");
    if (!cJSON_IsObject(o) || !type) return pf_error(PF_ERR_FORMAT, "%s: a normalizer has no \"type\"", t->label);
    if (!strcmp(type, "Sequence")) {
        const cJSON *list = jget(o, "normalizers"), *it;
        if (!cJSON_IsArray(list)) return pf_error(PF_ERR_FORMAT, "%s: Sequence normalizer without a \"normalizers\" list", t->label);
        cJSON_ArrayForEach(it, list) PF_TRY(parse_normalizer(t, it, depth + 1));
        return PF_OK;
    }
    if (!strcmp(type, "Precompiled")) {
        const char *b64 = jstr(o, "precompiled_charsmap");
        if (!b64) return pf_error(PF_ERR_FORMAT, "%s: Precompiled normalizer without \"precompiled_charsmap\"", t->label);
        uint8_t *blob = NULL;
        size_t len = 0;
        PF_TRY(base64_decode(t->label, b64, &blob, &len));
        pf_status st = add_precompiled(t, blob, len);
        free(blob);
        return st;
    }
    if (!strcmp(type, "Strip")) {
        t5_norm n = {.kind = NORM_STRIP};
        PF_TRY(jbool(t->label, o, "strip_left", true, &n.left));
        PF_TRY(jbool(t->label, o, "strip_right", true, &n.right));
        return pf_tok_t5_push_norm(t, n);
    }
    if (!strcmp(type, "Replace")) {
        const cJSON *pat = jget(o, "pattern");
        const char *content = jstr(o, "content");
        if (!cJSON_IsObject(pat) || !content)
            return pf_error(PF_ERR_FORMAT, "%s: Replace normalizer needs \"pattern\" and \"content\"", t->label);
        const char *lit = jstr(pat, "String"), *re = jstr(pat, "Regex");
        if (lit) return pf_tok_t5_add_replace_str(t, lit, strlen(lit), content, strlen(content));
        if (re) return pf_tok_t5_add_replace_regex(t, re, content);
        return pf_error(PF_ERR_FORMAT, "%s: Replace pattern is neither {\"String\"} nor {\"Regex\"}", t->label);
    }
    int flags = 0;
    if (!strcmp(type, "NFC")) flags = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    if (!strcmp(type, "NFD")) flags = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    if (!strcmp(type, "NFKC")) flags = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    if (!strcmp(type, "NFKD")) flags = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    if (flags) return pf_tok_t5_push_norm(t, (t5_norm){.kind = NORM_UNICODE, .uflags = flags});
    return pf_error(PF_ERR_UNSUPPORTED, "%s: normalizer type \"%s\" is not supported", t->label, type);
}

/* ---- pre-tokenizer ---- */

static pf_status set_metaspace(pf_tok_t5 *t, const char *repl, int prepend, bool split) {
    size_t n = strlen(repl);
    if (n == 0 || n > 4 || (size_t)pf_tok_utf8_len((unsigned char)repl[0]) != n || !pf_tok_utf8_valid(repl, n))
        return pf_error(PF_ERR_FORMAT, "%s: Metaspace replacement must be one character", t->label);
    memcpy(t->repl, repl, n);
    t->repl_len = n;
    t->prepend = prepend;
    t->split = split;
    t->metaspace = true;
    return PF_OK;
}

static pf_status parse_pre_tokenizer(pf_tok_t5 *t, const cJSON *o) {
    if (!o || cJSON_IsNull(o)) return PF_OK;
    const char *type = jstr(o, "type");
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *list = jget(o, "pretokenizers");
        if (cJSON_IsArray(list) && cJSON_GetArraySize(list) == 1) return parse_pre_tokenizer(t, cJSON_GetArrayItem(list, 0));
    }
    if (!type || strcmp(type, "Metaspace"))
        return pf_error(PF_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" is not supported (T5 uses Metaspace)", t->label,
                        type ? type : "?");
    const char *repl = jstr(o, "replacement");
    if (!repl) return pf_error(PF_ERR_FORMAT, "%s: Metaspace without \"replacement\"", t->label);
    /* prepend_scheme; older files only have add_prefix_space (true: always). */
    int prepend;
    const char *scheme = jstr(o, "prepend_scheme");
    if (scheme) {
        if (!strcmp(scheme, "always"))
            prepend = PREPEND_ALWAYS;
        else if (!strcmp(scheme, "first"))
            prepend = PREPEND_FIRST;
        else if (!strcmp(scheme, "never"))
            prepend = PREPEND_NEVER;
        else
            return pf_error(PF_ERR_FORMAT, "%s: unknown Metaspace prepend_scheme \"%s\"", t->label, scheme);
    } else {
        bool add;
        PF_TRY(jbool(t->label, o, "add_prefix_space", true, &add));
        prepend = add ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    bool split;
    PF_TRY(jbool(t->label, o, "split", true, &split));
    return set_metaspace(t, repl, prepend, split);
}

/* ---- model, added tokens, post-processor ---- */

static pf_status parse_model(pf_tok_t5 *t, const cJSON *m) {
    if (!cJSON_IsObject(m)) return pf_error(PF_ERR_FORMAT, "%s: no \"model\" object", t->label);
    const char *type = jstr(m, "type");
    if (type && strcmp(type, "Unigram"))
        return pf_error(PF_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (T5 is Unigram)", t->label, type);
    const cJSON *vocab = jget(m, "vocab"), *it;
    if (!cJSON_IsArray(vocab)) return pf_error(PF_ERR_FORMAT, "%s: model.vocab is not a list", t->label);
    int i = 0;
    cJSON_ArrayForEach(it, vocab) {
        const cJSON *p = cJSON_GetArrayItem(it, 0), *s = cJSON_GetArrayItem(it, 1);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2 || !cJSON_IsString(p) || !cJSON_IsNumber(s))
            return pf_error(PF_ERR_FORMAT, "%s: model.vocab[%d] is not a [piece, score] pair", t->label, i);
        size_t len = strlen(p->valuestring);
        if (!pf_tok_utf8_valid(p->valuestring, len))
            return pf_error(PF_ERR_FORMAT, "%s: model.vocab[%d] is not valid UTF-8", t->label, i);
        if (s->valuedouble != s->valuedouble)
            return pf_error(PF_ERR_FORMAT, "%s: model.vocab[%d] has a NaN score", t->label, i);
        PF_TRY(pf_tok_unigram_add(&t->uni, p->valuestring, len, s->valuedouble));
        i++;
    }
    int64_t unk = -1;
    const cJSON *u = jget(m, "unk_id");
    if (u && !cJSON_IsNull(u)) PF_TRY(jint(t->label, u, "model.unk_id", 0, INT32_MAX, &unk));
    bool bf;
    PF_TRY(jbool(t->label, m, "byte_fallback", false, &bf));
    return pf_tok_unigram_finish(&t->uni, (int32_t)unk, bf, t->label);
}

static pf_status parse_added(pf_tok_t5 *t, const cJSON *list) {
    if (!list || cJSON_IsNull(list)) return PF_OK;
    if (!cJSON_IsArray(list)) return pf_error(PF_ERR_FORMAT, "%s: \"added_tokens\" is not a list", t->label);
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, list) {
        const char *content = jstr(it, "content");
        int64_t id;
        if (!content) return pf_error(PF_ERR_FORMAT, "%s: added_tokens[%d] has no \"content\"", t->label, i);
        PF_TRY(jint(t->label, jget(it, "id"), "added_tokens[].id", 0, INT32_MAX, &id));
        bool ls, rs, sw, norm, sp;
        PF_TRY(jbool(t->label, it, "lstrip", false, &ls));
        PF_TRY(jbool(t->label, it, "rstrip", false, &rs));
        PF_TRY(jbool(t->label, it, "single_word", false, &sw));
        PF_TRY(jbool(t->label, it, "special", false, &sp));
        PF_TRY(jbool(t->label, it, "normalized", !sp, &norm));
        PF_TRY(pf_tok_added_add(&t->added, content, strlen(content), (int32_t)id, ls, rs, sw, norm, sp));
        i++;
    }
    return PF_OK;
}

static pf_status parse_post(pf_tok_t5 *t, const cJSON *o, pf_tok_ids *prefix, pf_tok_ids *suffix) {
    if (!o || cJSON_IsNull(o)) return PF_OK;
    const char *type = jstr(o, "type");
    if (!type || strcmp(type, "TemplateProcessing"))
        return pf_error(PF_ERR_UNSUPPORTED, "%s: post_processor \"%s\" is not supported", t->label, type ? type : "?");
    const cJSON *single = jget(o, "single"), *specials = jget(o, "special_tokens"), *it;
    if (!cJSON_IsArray(single)) return pf_error(PF_ERR_FORMAT, "%s: TemplateProcessing without a \"single\" list", t->label);
    bool seen_a = false;
    cJSON_ArrayForEach(it, single) {
        if (jget(it, "Sequence")) {
            seen_a = true;
            continue;
        }
        const cJSON *sp = jget(it, "SpecialToken");
        const char *name = sp ? jstr(sp, "id") : NULL;
        if (!name) return pf_error(PF_ERR_FORMAT, "%s: unknown TemplateProcessing item", t->label);
        const cJSON *def = jget(specials, name), *ids = def ? jget(def, "ids") : NULL, *x;
        if (!cJSON_IsArray(ids))
            return pf_error(PF_ERR_FORMAT, "%s: special token \"%s\" of the template has no \"ids\"", t->label, name);
        cJSON_ArrayForEach(x, ids) {
            int64_t id;
            PF_TRY(jint(t->label, x, "special_tokens[].ids[]", 0, INT32_MAX, &id));
            PF_TRY(pf_tok_ids_push(seen_a ? suffix : prefix, (int32_t)id));
        }
    }
    return PF_OK;
}

static pf_status load_json(pf_tok_t5 *t, const char *path, pf_tok_ids *prefix, pf_tok_ids *suffix) {
    cJSON *root = NULL;
    PF_TRY(pf_tok_json_load(path, &root));
    pf_status st = cJSON_IsObject(root) ? PF_OK : pf_error(PF_ERR_FORMAT, "%s: not a JSON object", path);
    if (st == PF_OK) st = parse_model(t, jget(root, "model"));
    if (st == PF_OK) st = parse_added(t, jget(root, "added_tokens"));
    if (st == PF_OK) st = parse_normalizer(t, jget(root, "normalizer"), 0);
    if (st == PF_OK) st = parse_pre_tokenizer(t, jget(root, "pre_tokenizer"));
    if (st == PF_OK) st = parse_post(t, jget(root, "post_processor"), prefix, suffix);
    cJSON_Delete(root);
    return st;
}

/* ---- spiece.model, converted as transformers' T5Converter does ---- */

#define PF_T5_EXTRA_IDS 100

static pf_status load_spm(pf_tok_t5 *t, const uint8_t *data, size_t len, const char *path, pf_tok_ids *suffix) {
    pf_spm_model m;
    PF_TRY(pf_spm_model_parse(data, len, path, &m));
    pf_status st = PF_OK;
    if (m.model_type != PF_SPM_UNIGRAM) {
        int type = m.model_type;
        pf_spm_model_free(&m);
        return pf_error(PF_ERR_UNSUPPORTED, "%s: sentencepiece model type %d is not unigram", path, type);
    }
    /* vocab: the pieces, then <extra_id_99> .. <extra_id_0> with score 0 */
    for (int i = 0; st == PF_OK && i < m.n_pieces; i++)
        st = pf_tok_unigram_add(&t->uni, m.strs.p + m.pieces[i].off, m.pieces[i].len, (double)m.pieces[i].score);
    for (int i = PF_T5_EXTRA_IDS - 1; st == PF_OK && i >= 0; i--) {
        char name[32];
        int n = snprintf(name, sizeof name, "<extra_id_%d>", i);
        st = pf_tok_unigram_add(&t->uni, name, (size_t)n, 0.0);
    }
    if (st == PF_OK) {
        int32_t unk = m.unk_id >= 0 && m.unk_id < m.n_pieces ? m.unk_id : -1;
        /* The T5 converter never enables byte fallback. */
        st = pf_tok_unigram_finish(&t->uni, unk, false, path);
    }
    /* special tokens of the slow tokenizer: the control/unknown pieces, then
     * the sentinels, which T5Tokenizer registers with lstrip/rstrip */
    for (int i = 0; st == PF_OK && i < m.n_pieces; i++)
        if (m.pieces[i].type == PF_SPM_CONTROL || m.pieces[i].type == PF_SPM_UNKNOWN)
            st = pf_tok_added_add(&t->added, m.strs.p + m.pieces[i].off, m.pieces[i].len, i, false, false, false,
                                  false, true);
    for (int i = 0; st == PF_OK && i < PF_T5_EXTRA_IDS; i++) {
        char name[32];
        int n = snprintf(name, sizeof name, "<extra_id_%d>", i);
        st = pf_tok_added_add(&t->added, name, (size_t)n, m.n_pieces + PF_T5_EXTRA_IDS - 1 - i, true, true, false,
                              false, true);
    }
    /* normalizer: Precompiled (when the model has rules), Strip(right), Replace(" {2,}" -> "▁") */
    if (st == PF_OK && m.charsmap_len > 0) st = add_precompiled(t, (const uint8_t *)m.charsmap, m.charsmap_len);
    if (st == PF_OK) st = pf_tok_t5_push_norm(t, (t5_norm){.kind = NORM_STRIP, .left = false, .right = true});
    if (st == PF_OK) st = pf_tok_t5_add_replace_regex(t, " {2,}", "\xE2\x96\x81");
    /* legacy conversion: prefix "always" (sentencepiece's add_dummy_prefix) */
    if (st == PF_OK)
        st = set_metaspace(t, "\xE2\x96\x81", m.add_dummy_prefix ? PREPEND_ALWAYS : PREPEND_NEVER, true);
    if (st == PF_OK) {
        int32_t eos;
        if (pf_tok_unigram_id(&t->uni, "</s>", 4, &eos))
            st = pf_tok_ids_push(suffix, eos);
        else if (m.eos_id >= 0 && m.eos_id < m.n_pieces)
            st = pf_tok_ids_push(suffix, m.eos_id);
    }
    pf_spm_model_free(&m);
    return st;
}

/* ---- pad token: special_tokens_map.json over tokenizer_config.json, default <pad> ---- */

static pf_status find_pad(pf_tok_t5 *t, const char *dir, int32_t *pad_id) {
    char *name = NULL;
    const char *files[] = {"special_tokens_map.json", "tokenizer_config.json"};
    for (int f = 0; f < 2 && !name; f++) {
        char *p = pf_path_join(dir, files[f]);
        if (!p) return PF_ERR_OOM;
        if (pf_file_exists(p)) {
            cJSON *root = NULL;
            pf_status st = pf_tok_json_load(p, &root);
            if (st != PF_OK) {
                free(p);
                return st;
            }
            const char *c = pf_tok_json_token_content(jget(root, "pad_token"));
            if (c) name = pf_strdup(c);
            cJSON_Delete(root);
            if (c && !name) {
                free(p);
                return PF_ERR_OOM;
            }
        }
        free(p);
    }
    const char *want = name ? name : "<pad>";
    int k = pf_tok_added_find(&t->added, want, strlen(want));
    int32_t id;
    pf_status st = PF_OK;
    if (k >= 0)
        *pad_id = t->added.tok[k].id;
    else if (pf_tok_unigram_id(&t->uni, want, strlen(want), &id))
        *pad_id = id;
    else
        st = pf_error(PF_ERR_NOT_FOUND, "%s: pad token \"%s\" is not in the vocabulary", t->label, want);
    free(name);
    return st;
}

pf_status pf_tok_t5_load(const char *dir, pf_tok_t5 **out, int32_t *pad_id, pf_tok_ids *prefix, pf_tok_ids *suffix) {
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "T5 tokenizer: no folder given");
    pf_tok_t5 *t = pf_calloc(1, sizeof *t, "T5 tokenizer");
    if (!t) return PF_ERR_OOM;
    char *json = pf_path_join(dir, "tokenizer.json"), *spm = pf_path_join(dir, "spiece.model");
    pf_status st = PF_OK;
    if (!json || !spm) {
        st = PF_ERR_OOM;
    } else if (pf_file_exists(json)) {
        t->label = json;
        json = NULL;
        st = load_json(t, t->label, prefix, suffix);
    } else if (pf_file_exists(spm)) {
        t->label = spm;
        spm = NULL;
        char *data = NULL;
        size_t len = 0;
        st = pf_read_file(t->label, &data, &len);
        if (st == PF_OK) st = load_spm(t, (const uint8_t *)data, len, t->label, suffix);
        free(data);
    } else {
        st = pf_error(PF_ERR_IO, "%s: no tokenizer.json or spiece.model in this folder", dir);
    }
    if (st == PF_OK) st = find_pad(t, dir, pad_id);
    free(json);
    free(spm);
    if (st != PF_OK) {
        pf_tok_t5_free(t);
        return st;
    }
    *out = t;
    return PF_OK;
}

pf_status pf_tok_t5_from_spm(const uint8_t *data, size_t len, const char *label, pf_tok_t5 **out,
                             pf_tok_ids *suffix) {
    *out = NULL;
    pf_tok_t5 *t = pf_calloc(1, sizeof *t, "T5 tokenizer");
    if (!t) return PF_ERR_OOM;
    t->label = pf_strdup(label ? label : "spiece.model");
    pf_status st = t->label ? load_spm(t, data, len, t->label, suffix) : PF_ERR_OOM;
    if (st != PF_OK) {
        pf_tok_t5_free(t);
        return st;
    }
    *out = t;
    return PF_OK;
}

void pf_tok_t5_free(pf_tok_t5 *t) {
    if (!t) return;
    for (int i = 0; i < t->n_norms; i++) {
        pf_tok_charsmap_free(&t->norms[i].cm);
        free(t->norms[i].pat);
        free(t->norms[i].content);
    }
    free(t->norms);
    pf_tok_unigram_free(&t->uni);
    pf_tok_added_free(&t->added);
    pf_tok_buf_free(&t->a);
    pf_tok_buf_free(&t->b);
    free(t->label);
    free(t);
}
