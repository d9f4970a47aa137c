/*
 * Tokenizer robustness: missing and malformed files (spiece.model truncated
 * or corrupted at every byte, tokenizer.json, vocab.json, merges.txt), invalid
 * UTF-8 and NUL bytes in prompts, empty and very long prompts, truncation and
 * n_full. Uses small tokenizers built here; the checks that need the real
 * vocabularies use the golden pack and skip without it.
 */
#include "pf_test.h"
#include "pf_tokenizer.h"

#include <dirent.h>
#include <unistd.h>

/* ---- scratch folders ---- */

static char *make_dir(void) {
    static char dirs[16][4200];
    static int n;
    char *d = dirs[n++ % 16];
    snprintf(d, 4200, "%s/tok_err_XXXXXX", PF_TEST_BINARY_DIR);
    return mkdtemp(d);
}

static void remove_dir(const char *d) {
    DIR *dir = opendir(d);
    if (!dir) return;
    struct dirent *e;
    char p[4400];
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        unlink(p);
    }
    closedir(dir);
    rmdir(d);
}

static bool write_file(const char *dir, const char *name, const void *data, size_t n) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static bool write_str(const char *dir, const char *name, const char *s) { return write_file(dir, name, s, strlen(s)); }

/* ---- a small sentencepiece model, encoded here ---- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} pbuf;

static void pb_varint(pbuf *p, uint64_t v) {
    do {
        p->b[p->n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void pb_bytes(pbuf *p, int field, const void *d, size_t n) {
    pb_varint(p, (uint64_t)field << 3 | 2);
    pb_varint(p, n);
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void pb_int(pbuf *p, int field, int64_t v) {
    pb_varint(p, (uint64_t)field << 3);
    pb_varint(p, (uint64_t)v);
}

static const char *const spm_pieces[] = {"<pad>", "</s>", "<unk>", "\xE2\x96\x81", "a", "b", "c", "\xE2\x96\x81" "ab", "abc"};

static size_t build_spm(uint8_t *out) {
    pbuf m = {.n = 0};
    for (size_t i = 0; i < PF_ARRAY_LEN(spm_pieces); i++) {
        pbuf pc = {.n = 0};
        pb_bytes(&pc, 1, spm_pieces[i], strlen(spm_pieces[i]));
        float score = i < 3 ? 0.0f : -1.0f - (float)i;
        uint32_t u;
        memcpy(&u, &score, 4);
        pb_varint(&pc, 2 << 3 | 5);
        for (int k = 0; k < 4; k++) pc.b[pc.n++] = (uint8_t)(u >> (8 * k));
        pb_int(&pc, 3, i == 2 ? 2 : i < 2 ? 3 : 1); /* UNKNOWN, CONTROL, NORMAL */
        pb_bytes(&m, 1, pc.b, pc.n);
    }
    pbuf tr = {.n = 0};
    pb_int(&tr, 3, 1);  /* UNIGRAM */
    pb_int(&tr, 40, 2); /* unk */
    pb_int(&tr, 41, -1); /* bos: 10-byte negative varint */
    pb_int(&tr, 42, 1);
    pb_int(&tr, 43, 0);
    pb_bytes(&m, 2, tr.b, tr.n);
    pbuf ns = {.n = 0};
    pb_bytes(&ns, 1, "identity", 8);
    pb_int(&ns, 3, 1);
    pb_bytes(&m, 3, ns.b, ns.n);
    memcpy(out, m.b, m.n);
    return m.n;
}

static pf_test_result expect_ids(pf_tokenizer *t, const char *text, size_t len, const int32_t *want, int nwant) {
    int32_t *ids = NULL;
    int n = 0;
    CHECK_OK(pf_tokenize_full_n(t, text, len, &ids, &n));
    bool same = n == nwant;
    for (int i = 0; same && i < n; i++) same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "  got:");
        for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    free(ids);
    CHECK(same);
    return PF_T_PASS;
}

static pf_test_result test_spm_small_model(void) {
    char *d = make_dir();
    CHECK(d);
    uint8_t buf[4096];
    size_t n = build_spm(buf);
    CHECK(write_file(d, "spiece.model", buf, n));
    pf_tokenizer *t;
    CHECK_OK(pf_tokenizer_load_t5(d, &t));
    CHECK(pf_tokenizer_kind(t) == PF_TOK_T5);
    CHECK(pf_tokenizer_pad_id(t) == 0);
    /* scores: "▁" -4, "a" -5, "b" -6, "c" -7, "▁ab" -8, "abc" -9: the best path
     * for "▁abc" is "▁" + "abc" (-13) over "▁ab" + "c" (-15); the unknown run
     * "xy" fuses into one unk; the </s> literal is an added token */
    const int32_t want1[] = {3, 8, 1};
    CHECK(expect_ids(t, "abc", 3, want1, 3) == PF_T_PASS);
    const int32_t want2[] = {3, 2, 4, 1, 1};
    CHECK(expect_ids(t, "xya</s>", 7, want2, 5) == PF_T_PASS);
    pf_tokenizer_free(t);
    remove_dir(d);
    return PF_T_PASS;
}

/* Every prefix and every single-byte corruption of the model must load or
 * fail with a format error naming the file, never crash. */
static pf_test_result test_spm_truncated_and_corrupt(void) {
    char *d = make_dir();
    CHECK(d);
    uint8_t buf[4096], bad[4096];
    size_t n = build_spm(buf);
    int failed = 0, loaded = 0;
    for (size_t cut = 0; cut < n; cut++) {
        CHECK(write_file(d, "spiece.model", buf, cut));
        pf_tokenizer *t = NULL;
        pf_status s = pf_tokenizer_load_t5(d, &t);
        if (s == PF_OK) {
            int32_t ids[16], mask[16];
            CHECK_OK(pf_tokenize(t, "abc xyz </s>", 16, ids, mask, NULL));
            pf_tokenizer_free(t);
            loaded++;
        } else {
            CHECK_MSG(s == PF_ERR_FORMAT || s == PF_ERR_UNSUPPORTED || s == PF_ERR_NOT_FOUND, "cut %zu: %s", cut,
                      pf_last_error());
            CHECK_MSG(strstr(pf_last_error(), "spiece.model") || s == PF_ERR_NOT_FOUND, "cut %zu: %s", cut,
                      pf_last_error());
            failed++;
        }
    }
    CHECK(failed > 0);
    for (size_t i = 0; i < n; i++) {
        for (int v = 0; v < 3; v++) {
            memcpy(bad, buf, n);
            bad[i] = v == 0 ? 0xFF : v == 1 ? 0x00 : (uint8_t)(buf[i] ^ 0x80);
            CHECK(write_file(d, "spiece.model", bad, n));
            pf_tokenizer *t = NULL;
            if (pf_tokenizer_load_t5(d, &t) == PF_OK) {
                int32_t *ids = NULL;
                int m = 0;
                CHECK_OK(pf_tokenize_full(t, "abc \xFF <extra_id_0> b", &ids, &m));
                free(ids);
                pf_tokenizer_free(t);
            }
        }
    }
    fprintf(stderr, "  spiece.model prefixes: %d loaded, %d rejected\n", loaded, failed);
    /* random bytes */
    uint32_t seed = 12345;
    for (int k = 0; k < 200; k++) {
        size_t len = 1 + k * 7 % 600;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            bad[i] = (uint8_t)(seed >> 16);
        }
        CHECK(write_file(d, "spiece.model", bad, len));
        pf_tokenizer *t = NULL;
        if (pf_tokenizer_load_t5(d, &t) == PF_OK) pf_tokenizer_free(t);
    }
    remove_dir(d);
    return PF_T_PASS;
}

static pf_test_result test_missing_files(void) {
    pf_tokenizer *t = (pf_tokenizer *)1;
    CHECK_ERR(pf_tokenizer_load_t5("/nonexistent/tokenizer_2", &t), PF_ERR_IO, "/nonexistent/tokenizer_2");
    CHECK(t == NULL);
    CHECK_ERR(pf_tokenizer_load_clip("/nonexistent/tokenizer", &t), PF_ERR_IO, "/nonexistent/tokenizer");
    CHECK_ERR(pf_tokenizer_load_t5(NULL, &t), PF_ERR_INVALID_ARG, "");
    char *d = make_dir();
    CHECK(d);
    CHECK_ERR(pf_tokenizer_load_t5(d, &t), PF_ERR_IO, "no tokenizer.json or spiece.model");
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_IO, "vocab.json");
    CHECK(write_str(d, "vocab.json", "{\"a</w>\": 0}"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_IO, "merges.txt");
    remove_dir(d);
    return PF_T_PASS;
}

/* ---- tokenizer.json ---- */

static const char *t5_json_fmt =
    "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<pad>\",\"special\":true},"
    "{\"id\":1,\"content\":\"</s>\",\"special\":true},{\"id\":2,\"content\":\"<unk>\",\"special\":true}],"
    "\"normalizer\":%s,"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\"},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\"}},"
    "{\"SpecialToken\":{\"id\":\"</s>\"}}],\"special_tokens\":{\"</s>\":{\"id\":\"</s>\",\"ids\":[1]}}},"
    "\"model\":%s}";
static const char *t5_model_ok =
    "{\"type\":\"Unigram\",\"unk_id\":2,\"vocab\":[[\"<pad>\",0],[\"</s>\",0],[\"<unk>\",0],[\"\\u2581\",-2],"
    "[\"a\",-3],[\"b\",-3],[\"\\u2581a\",-1.5]]}";
static const char *t5_norm_ok =
    "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Strip\",\"strip_left\":false,\"strip_right\":true},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},\"content\":\"\\u2581\"}]}";

static pf_status load_t5_json3(const char *norm, const char *model, const char *raw) {
    char *d = make_dir();
    if (!d) return pf_error(PF_ERR_IO, "mkdtemp failed");
    char json[4096];
    if (raw)
        snprintf(json, sizeof json, "%s", raw);
    else
        snprintf(json, sizeof json, t5_json_fmt, norm, model);
    pf_tokenizer *t = NULL;
    pf_status s = write_str(d, "tokenizer.json", json) ? pf_tokenizer_load_t5(d, &t) : PF_ERR_IO;
    if (s == PF_OK) {
        int32_t ids[8], mask[8];
        s = pf_tokenize(t, "a  b</s>ba", 8, ids, mask, NULL);
    }
    pf_tokenizer_free(t);
    remove_dir(d);
    return s;
}

static pf_status load_t5_json(const char *norm, const char *model) { return load_t5_json3(norm, model, NULL); }
static pf_status load_t5_raw(const char *raw) { return load_t5_json3(NULL, NULL, raw); }

static pf_test_result test_t5_json(void) {
    CHECK_OK(load_t5_json(t5_norm_ok, t5_model_ok));
    CHECK_ERR(load_t5_raw("{\"model\": [1, 2"), PF_ERR_FORMAT, "invalid JSON");
    CHECK_ERR(load_t5_raw("[]"), PF_ERR_FORMAT, "tokenizer.json");
    CHECK_ERR(load_t5_json(t5_norm_ok, "{\"type\":\"BPE\",\"vocab\":{}}"), PF_ERR_UNSUPPORTED, "BPE");
    CHECK_ERR(load_t5_json(t5_norm_ok, "{\"type\":\"Unigram\",\"vocab\":[]}"), PF_ERR_FORMAT, "empty");
    CHECK_ERR(load_t5_json(t5_norm_ok, "{\"type\":\"Unigram\",\"vocab\":[[\"a\"]]}"), PF_ERR_FORMAT, "vocab[0]");
    CHECK_ERR(load_t5_json(t5_norm_ok, "{\"type\":\"Unigram\",\"unk_id\":9,\"vocab\":[[\"a\",-1]]}"), PF_ERR_FORMAT,
              "unk_id");
    CHECK_ERR(load_t5_json(t5_norm_ok, "{\"type\":\"Unigram\",\"unk_id\":-1,\"vocab\":[[\"a\",-1]]}"), PF_ERR_FORMAT,
              "unk_id");
    CHECK_ERR(load_t5_json("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"@@@\"}", t5_model_ok),
              PF_ERR_FORMAT, "base64");
    /* trie size 8 but only 4 bytes follow; trie size not a multiple of 4 */
    CHECK_ERR(load_t5_json("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"CAAAAAAAAAA=\"}", t5_model_ok),
              PF_ERR_FORMAT, "precompiled_charsmap");
    CHECK_ERR(load_t5_json("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"BQAAAAAAAAAA\"}", t5_model_ok),
              PF_ERR_FORMAT, "multiple of 4");
    CHECK_ERR(load_t5_json("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"\"}", t5_model_ok), PF_ERR_FORMAT,
              "too short");
    /* an all-zero trie is well-formed and maps nothing */
    CHECK_OK(load_t5_json("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"BAAAAAAAAAA=\"}", t5_model_ok));
    CHECK_ERR(load_t5_json("{\"type\":\"Lowercase\"}", t5_model_ok), PF_ERR_UNSUPPORTED, "Lowercase");
    CHECK_ERR(load_t5_json("{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"[a-z]+\"},\"content\":\"x\"}", t5_model_ok),
              PF_ERR_UNSUPPORTED, "regex");
    return PF_T_PASS;
}

/* ---- CLIP files ---- */

/* vocab.json with the 512 byte symbols, "ab</w>" and the special tokens */
static bool write_clip(const char *d, const char *merges) {
    char *v = malloc(64 * 1024);
    if (!v) return false;
    size_t n = 0;
    n += (size_t)snprintf(v + n, 64 * 1024 - n, "{");
    int id = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < 256; b++) {
            /* GPT-2 byte-to-unicode */
            int cp = b, k = 0;
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            if (!printable) {
                for (int x = 0; x < b; x++)
                    if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE))) k++;
                cp = 256 + k;
            }
            char u[8];
            int ul;
            if (cp < 0x80) {
                u[0] = (char)cp;
                ul = 1;
            } else {
                u[0] = (char)(0xC0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3F));
                ul = 2;
            }
            u[ul] = 0;
            if (cp == '"' || cp == '\\')
                n += (size_t)snprintf(v + n, 64 * 1024 - n, "\"\\%s%s\": %d,", u, pass ? "</w>" : "", id++);
            else
                n += (size_t)snprintf(v + n, 64 * 1024 - n, "\"%s%s\": %d,", u, pass ? "</w>" : "", id++);
        }
    }
    n += (size_t)snprintf(v + n, 64 * 1024 - n, "\"ab</w>\": %d, \"<|startoftext|>\": %d, \"<|endoftext|>\": %d}", id,
                          id + 1, id + 2);
    bool ok = write_file(d, "vocab.json", v, n) && write_str(d, "merges.txt", merges);
    free(v);
    return ok;
}

static pf_test_result test_clip_small(void) {
    char *d = make_dir();
    CHECK(d);
    CHECK(write_clip(d, "#version: 0.2\na b</w>\n"));
    pf_tokenizer *t;
    CHECK_OK(pf_tokenizer_load_clip(d, &t));
    CHECK(pf_tokenizer_kind(t) == PF_TOK_CLIP);
    CHECK(pf_tokenizer_pad_id(t) == 514);
    /* BOS, "ab</w>" merged, EOS; "a" alone is "a</w>" = 256 + 'a' */
    const int32_t want[] = {513, 512, 514};
    CHECK(expect_ids(t, "AB", 2, want, 3) == PF_T_PASS);
    const int32_t want2[] = {513, 256 + 'a', 514, 514};
    CHECK(expect_ids(t, "a<|endoftext|>", 14, want2, 4) == PF_T_PASS);
    pf_tokenizer_free(t);

    /* an SD3-style config: "!" as a special added token with id 0, the pad */
    CHECK(write_str(d, "tokenizer_config.json",
                    "{\"added_tokens_decoder\":{\"0\":{\"content\":\"!\",\"special\":true}},\"pad_token\":\"!\"}"));
    CHECK_OK(pf_tokenizer_load_clip(d, &t));
    CHECK(pf_tokenizer_pad_id(t) == 0);
    const int32_t want3[] = {513, 0, 0, 514};
    CHECK(expect_ids(t, "!!", 2, want3, 4) == PF_T_PASS);
    pf_tokenizer_free(t);

    /* malformed files */
    CHECK(write_str(d, "tokenizer_config.json", "{\"added_tokens_decoder\":{\"x\":{\"content\":\"!\"}}}"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "added_tokens_decoder");
    CHECK(write_str(d, "tokenizer_config.json", "{\"pad_token\": 5}"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "pad_token");
    CHECK(write_str(d, "tokenizer_config.json", "{"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "tokenizer_config.json");
    CHECK(write_str(d, "tokenizer_config.json", "{}"));
    CHECK(write_str(d, "vocab.json", "{\"a\": \"x\"}"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "vocab.json");
    CHECK(write_str(d, "vocab.json", "[1,2]"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "vocab.json");
    CHECK(write_str(d, "vocab.json", "{\"a\": 1.5}"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "vocab.json");
    CHECK(write_clip(d, "#version\n\xFF\xFE bad\n"));
    CHECK_ERR(pf_tokenizer_load_clip(d, &t), PF_ERR_FORMAT, "merges.txt");
    /* merges lines that are not pairs are ignored, as by the reference */
    CHECK(write_clip(d, "#version\na\n\na b c\n\na b</w>\n"));
    CHECK_OK(pf_tokenizer_load_clip(d, &t));
    CHECK(expect_ids(t, "ab", 2, want, 3) == PF_T_PASS);
    pf_tokenizer_free(t);
    /* no unk/eos in the vocabulary and no config: the special tokens get new ids */
    CHECK(write_str(d, "vocab.json", "{\"a</w>\": 0}"));
    CHECK_OK(pf_tokenizer_load_clip(d, &t));
    int32_t ids[8], mask[8];
    CHECK_OK(pf_tokenize(t, "a b \xE2\x82\xAC", 8, ids, mask, NULL));
    pf_tokenizer_free(t);
    remove_dir(d);
    return PF_T_PASS;
}

/* ---- prompts: invalid UTF-8, NUL, empty, very long ---- */

static pf_test_result check_prompts(pf_tokenizer *t, int max_len) {
    int32_t *ids = malloc((size_t)max_len * sizeof *ids), *mask = malloc((size_t)max_len * sizeof *mask);
    CHECK(ids && mask);
    int n_full = -1;
    /* empty: just the special tokens */
    CHECK_OK(pf_tokenize(t, "", max_len, ids, mask, &n_full));
    int specials = n_full;
    CHECK(specials >= 1 && specials <= 2);
    for (int i = 0; i < max_len; i++) CHECK(mask[i] == (i < specials));
    for (int i = specials; i < max_len; i++) CHECK(ids[i] == pf_tokenizer_pad_id(t));

    /* invalid UTF-8 reads as U+FFFD per ill-formed sequence */
    int32_t *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    CHECK_OK(pf_tokenize_full(t, "x\xC3 \xED\xA0\x80y\xF4\x90\x80\x80 \xFF", &a, &na));
    CHECK_OK(pf_tokenize_full(t,
                              "x\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                              "\xEF\xBF\xBD \xEF\xBF\xBD",
                              &b, &nb));
    CHECK(na == nb && !memcmp(a, b, (size_t)na * sizeof *a));
    free(a);
    free(b);
    /* NUL bytes inside the text */
    CHECK_OK(pf_tokenize_full_n(t, "null\0char", 9, &a, &na));
    CHECK(na > specials);
    free(a);

    /* very long prompts: many words, and one huge word */
    size_t len = 300000;
    char *big = malloc(len + 1);
    CHECK(big);
    for (size_t i = 0; i < len; i++) big[i] = "a cat, "[i % 7];
    big[len] = 0;
    CHECK_OK(pf_tokenize(t, big, max_len, ids, mask, &n_full));
    CHECK(n_full > max_len);
    for (int i = 0; i < max_len; i++) CHECK(mask[i] == 1);
    int32_t *full = NULL;
    int nf = 0;
    CHECK_OK(pf_tokenize_full(t, big, &full, &nf));
    CHECK(nf == n_full);
    CHECK(ids[max_len - 1] == full[nf - 1]);                         /* the end token is kept */
    CHECK(!memcmp(ids, full, (size_t)(max_len - 1) * sizeof *ids)); /* the start is the full start */
    free(full);
    for (size_t i = 0; i < len; i++) big[i] = (char)('a' + (i * 7 % 26));
    CHECK_OK(pf_tokenize(t, big, max_len, ids, mask, &n_full));
    CHECK(n_full > max_len);
    free(big);

    /* exactly max_len: no truncation; one more: truncated */
    char words[8192] = "";
    int k = 0;
    for (;;) {
        strcat(words, k ? " cat" : "cat");
        k++;
        CHECK_OK(pf_tokenize(t, words, max_len, ids, mask, &n_full));
        if (n_full >= max_len) break;
        CHECK(mask[n_full - 1] == 1 && (n_full == max_len || mask[n_full] == 0));
    }
    CHECK(n_full == max_len || n_full == max_len + 1);

    /* bad arguments */
    CHECK_ERR(pf_tokenize(t, "x", specials - 1, ids, mask, NULL), PF_ERR_INVALID_ARG, "max_len");
    CHECK_OK(pf_tokenize(t, "x y z", specials, ids, mask, &n_full)); /* room for the special tokens only */
    CHECK(n_full > specials && mask[specials - 1] == 1);
    CHECK_ERR(pf_tokenize(t, NULL, max_len, ids, mask, NULL), PF_ERR_INVALID_ARG, "");
    CHECK_ERR(pf_tokenize(NULL, "x", max_len, ids, mask, NULL), PF_ERR_INVALID_ARG, "");
    CHECK_ERR(pf_tokenize_full(t, "x", NULL, &na), PF_ERR_INVALID_ARG, "");
    free(ids);
    free(mask);
    return PF_T_PASS;
}

static const char *golden_tok(const char *sub) {
    static char p[4200];
    const char *g = pf_test_golden_dir();
    if (!g) return NULL;
    snprintf(p, sizeof p, "%s/tokenizers/%s", g, sub);
    return pf_dir_exists(p) ? p : NULL;
}

static pf_test_result test_prompts_t5(void) {
    const char *d = golden_tok("t5");
    if (!d) SKIP("no golden T5 tokenizer");
    pf_tokenizer *t;
    CHECK_OK(pf_tokenizer_load_t5(d, &t));
    pf_test_result r = check_prompts(t, 128);
    pf_tokenizer_free(t);
    return r;
}

static pf_test_result test_prompts_clip(void) {
    const char *d = golden_tok("clip");
    if (!d) SKIP("no golden CLIP tokenizer");
    pf_tokenizer *t;
    CHECK_OK(pf_tokenizer_load_clip(d, &t));
    pf_test_result r = check_prompts(t, 77);
    pf_tokenizer_free(t);
    return r;
}

static pf_test_result test_prompts_small(void) {
    char *d = make_dir();
    CHECK(d);
    uint8_t buf[4096];
    size_t n = build_spm(buf);
    CHECK(write_file(d, "spiece.model", buf, n));
    pf_tokenizer *t;
    CHECK_OK(pf_tokenizer_load_t5(d, &t));
    pf_test_result r = check_prompts(t, 16);
    pf_tokenizer_free(t);
    remove_dir(d);
    return r;
}

PF_TEST_MAIN(PF_TEST(test_spm_small_model), PF_TEST(test_spm_truncated_and_corrupt), PF_TEST(test_missing_files),
             PF_TEST(test_t5_json), PF_TEST(test_clip_small), PF_TEST(test_prompts_small), PF_TEST(test_prompts_t5),
             PF_TEST(test_prompts_clip))
