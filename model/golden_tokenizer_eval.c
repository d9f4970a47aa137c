/* Running the tokenizer golden files (golden_tokenizer.h). */
#include "golden_tokenizer.h"
#include "tok_internal.h"

#include <cjson/cJSON.h>

int pf_tok_golden_tier(const char *c) {
    if (!c) return PF_TIER_MUST;
    if (!strcmp(c, "special_literal") || !strcmp(c, "ftfy_mojibake")) return PF_TIER_OPTIONAL;
    if (!strcmp(c, "html_entity") || !strcmp(c, "control_chars")) return PF_TIER_SHOULD;
    return PF_TIER_MUST;
}

const char *pf_tok_golden_tier_name(int tier) {
    return tier == PF_TIER_MUST ? "must" : tier == PF_TIER_SHOULD ? "should" : "optional";
}

pf_status pf_tok_golden_spec_for_pack(const char *root, pf_tok_kind kind, pf_tok_golden_spec *s) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    bool t5 = kind == PF_TOK_T5;
    char *json = pf_path_join(root, t5 ? "t5_golden.json" : "clip_golden.json");
    char *dir = pf_path_join(root, t5 ? "t5" : "clip");
    char *var = dir ? pf_path_join(dir, t5 ? "sd3_tokenizer_3" : "sd3_tokenizer_2") : NULL;
    if (!json || !dir || !var) {
        free(json);
        free(dir);
        free(var);
        return PF_ERR_OOM;
    }
    s->json = json;
    s->dir = dir;
    if (pf_dir_exists(var)) {
        s->variant_dir = var;
        if (!t5) s->vocab_dir = dir;
    } else {
        free(var);
    }
    return PF_OK;
}

void pf_tok_golden_spec_free(pf_tok_golden_spec *s) {
    free((char *)s->json);
    free((char *)s->dir);
    free((char *)s->variant_dir);
    memset(s, 0, sizeof *s);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static pf_status unhex(const char *json, const char *id, const char *hx, char **out, size_t *len) {
    size_t n = strlen(hx);
    if (n % 2) return pf_error(PF_ERR_FORMAT, "%s: case %s: text_hex has an odd length", json, id);
    char *t = pf_malloc(n / 2 + 1, "golden text");
    if (!t) return PF_ERR_OOM;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(hx[2 * i]), b = hexval(hx[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(t);
            return pf_error(PF_ERR_FORMAT, "%s: case %s: text_hex is not hex", json, id);
        }
        t[i] = (char)(a * 16 + b);
    }
    t[n / 2] = '\0';
    *out = t;
    *len = n / 2;
    return PF_OK;
}

/* An int array field equal to v[0..n)? Absent or malformed arrays differ. */
static bool same_ids(const cJSON *a, const int32_t *v, int n) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return false;
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        if (!cJSON_IsNumber(x) || x->valuedouble != (double)v[i]) return false;
        i++;
    }
    return true;
}

static void log_ids(FILE *log, const char *what, const cJSON *exp, const int32_t *got, int n) {
    if (!log) return;
    fprintf(log, "    %s expected:", what);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, exp) {
        if (i++ >= 40) {
            fprintf(log, " ...");
            break;
        }
        fprintf(log, " %d", x->valueint);
    }
    fprintf(log, "\n    %s got     :", what);
    for (i = 0; i < n && i < 40; i++) fprintf(log, " %d", got[i]);
    fprintf(log, n > 40 ? " ...\n" : "\n");
}

/* Compare one tokenizer's full and fixed-length outputs with the expected fields. */
static pf_status check(pf_tokenizer *t, const char *text, size_t len, int max_len, const cJSON *ids,
                       const cJSON *input_ids, const cJSON *mask, const cJSON *num_tokens, const char *who,
                       FILE *log, bool *exact) {
    int32_t *full = NULL;
    int n = 0;
    PF_TRY(pf_tokenize_full_n(t, text, len, &full, &n));
    int32_t *fixed = pf_malloc((size_t)max_len * 2 * sizeof *fixed, "golden ids");
    if (!fixed) {
        free(full);
        return PF_ERR_OOM;
    }
    int32_t *m = fixed + max_len;
    int n_full = 0;
    pf_status st = pf_tokenize_n(t, text, len, max_len, fixed, m, &n_full);
    if (st == PF_OK) {
        char what[64];
        if (ids && !same_ids(ids, full, n)) {
            *exact = false;
            snprintf(what, sizeof what, "%s ids", who);
            log_ids(log, what, ids, full, n);
        }
        if (input_ids && !same_ids(input_ids, fixed, max_len)) {
            *exact = false;
            snprintf(what, sizeof what, "%s input_ids", who);
            log_ids(log, what, input_ids, fixed, max_len);
        }
        if (mask && !same_ids(mask, m, max_len)) {
            *exact = false;
            snprintf(what, sizeof what, "%s attention_mask", who);
            log_ids(log, what, mask, m, max_len);
        }
        if (cJSON_IsNumber(num_tokens) && num_tokens->valuedouble != (double)n_full) {
            *exact = false;
            if (log) fprintf(log, "    %s num_tokens expected %d got %d\n", who, num_tokens->valueint, n_full);
        }
    }
    free(full);
    free(fixed);
    return st;
}

static const cJSON *field(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void add_miss(pf_tok_golden_result *r, const char *id, int tier) {
    size_t used = strlen(r->misses);
    char item[96];
    snprintf(item, sizeof item, "%s%s(%s)", used ? " " : "", id, pf_tok_golden_tier_name(tier));
    if (used + strlen(item) + 5 < sizeof r->misses)
        strcat(r->misses, item);
    else if (used + 5 < sizeof r->misses && !strstr(r->misses, "..."))
        strcat(r->misses, " ...");
}

static pf_status eval_cases(const pf_tok_golden_spec *s, const cJSON *root, pf_tokenizer *prim, pf_tokenizer *var,
                            FILE *log, pf_tok_golden_result *r) {
    bool t5 = s->kind == PF_TOK_T5;
    const cJSON *cases = field(root, "cases"), *c;
    if (!cJSON_IsArray(cases)) return pf_error(PF_ERR_FORMAT, "%s: no \"cases\" list", s->json);
    const cJSON *ml = field(field(root, "meta"), "max_length");
    int max_len = cJSON_IsNumber(ml) && ml->valuedouble >= 2 && ml->valuedouble <= 65536 ? ml->valueint : t5 ? 128 : 77;
    int k = 0;
    cJSON_ArrayForEach(c, cases) {
        const cJSON *idj = field(c, "id"), *cat = field(c, "category"), *hx = field(c, "text_hex");
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "#%d", k++);
        const char *id = cJSON_IsString(idj) ? idj->valuestring : idbuf;
        if (!cJSON_IsString(hx)) return pf_error(PF_ERR_FORMAT, "%s: case %s has no text_hex", s->json, id);
        int tier = pf_tok_golden_tier(cJSON_IsString(cat) ? cat->valuestring : NULL);
        char *text = NULL;
        size_t len = 0;
        PF_TRY(unhex(s->json, id, hx->valuestring, &text, &len));
        bool exact = true, vexact = true;
        FILE *mlog = NULL;
        char *mbuf = NULL;
        size_t msize = 0;
        if (log) mlog = open_memstream(&mbuf, &msize); /* printed only for a miss */
        pf_status st = check(prim, text, len, max_len, field(c, "ids"), field(c, "input_ids"),
                             field(c, "attention_mask"), field(c, "num_tokens"), "primary", mlog, &exact);
        if (st == PF_OK && var) {
            const cJSON *vids, *vin = NULL, *vmask = NULL;
            if (t5) {
                vids = field(c, "sd3_tokenizer_3_ids");
                if (!vids) vids = field(c, "ids");
            } else {
                const cJSON *o = field(c, "sd3_tokenizer_2");
                vids = field(o, "ids");
                if (!vids) vids = field(c, "ids");
                vin = field(o, "input_ids");
                vmask = field(o, "attention_mask");
                if (!vin || !vmask) vexact = false; /* the format always has them */
            }
            st = check(var, text, len, max_len, vids, vin, vmask, NULL, "sd3", mlog, &vexact);
            r->variant_total++;
            if (vexact) r->variant_exact++;
        }
        free(text);
        if (mlog) fclose(mlog);
        if (st != PF_OK) {
            free(mbuf);
            return pf_error_wrap(st, "%s: case %s", s->json, id);
        }
        r->total[tier]++;
        if (exact && vexact) {
            r->exact[tier]++;
        } else {
            add_miss(r, id, tier);
            if (log)
                fprintf(log, "  MISS %s [%s] %s %s\n%s", id, pf_tok_golden_tier_name(tier),
                        cJSON_IsString(cat) ? cat->valuestring : "?", t5 ? "T5" : "CLIP", mbuf ? mbuf : "");
        }
        free(mbuf);
    }
    return PF_OK;
}

pf_status pf_tok_golden_eval(const pf_tok_golden_spec *s, FILE *log, pf_tok_golden_result *r) {
    memset(r, 0, sizeof *r);
    if (!s || !s->json || !s->dir) return pf_error(PF_ERR_INVALID_ARG, "tokenizer golden: incomplete spec");
    cJSON *root = NULL;
    PF_TRY(pf_tok_json_load(s->json, &root));
    pf_tokenizer *prim = NULL, *var = NULL;
    pf_status st = s->kind == PF_TOK_T5 ? pf_tokenizer_load_t5(s->dir, &prim) : pf_tokenizer_load_clip(s->dir, &prim);
    if (st == PF_OK && s->variant_dir)
        st = s->kind == PF_TOK_T5 ? pf_tokenizer_load_t5(s->variant_dir, &var)
                                  : pf_tokenizer_load_clip_vocab(s->variant_dir, s->vocab_dir, &var);
    if (st == PF_OK) st = eval_cases(s, root, prim, var, log, r);
    pf_tokenizer_free(prim);
    pf_tokenizer_free(var);
    cJSON_Delete(root);
    return st;
}
