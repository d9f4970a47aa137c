/* T5 tokenizer state shared by tok_t5.c (encoding) and tok_t5_load.c
 * (tokenizer.json / spiece.model). Private to those two files. */
#ifndef PF_TOK_T5_H
#define PF_TOK_T5_H

#include "tok_internal.h"

/* Normalizers of tokenizer.json that T5 conversions use. */
enum { NORM_PRECOMPILED, NORM_STRIP, NORM_REPLACE_RUN, NORM_REPLACE_STR, NORM_UNICODE };
/* Metaspace prepend_scheme */
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };

typedef struct t5_norm {
    int kind;
    pf_tok_charsmap cm;  /* PRECOMPILED */
    bool left, right;    /* STRIP */
    char *pat, *content; /* REPLACE_*: pattern (the repeated character for a run) and replacement */
    size_t pat_len, content_len;
    int run_min;         /* REPLACE_RUN: minimum run length */
    int uflags;          /* UNICODE: utf8proc options (NFC, NFKC, ...) */
} t5_norm;

struct pf_tok_t5 {
    char *label; /* the file the configuration came from, for messages */
    pf_tok_unigram uni;
    t5_norm *norms;
    int n_norms;
    bool metaspace; /* a Metaspace pre-tokenizer is configured */
    char repl[8];   /* its replacement character (UTF-8) */
    size_t repl_len;
    int prepend;
    bool split;
    pf_tok_added_set added;
    pf_tok_buf a, b; /* scratch */
};

pf_status pf_tok_t5_push_norm(pf_tok_t5 *t, t5_norm n);
/* Replace normalizer from a literal pattern / from its regex (the supported subset). */
pf_status pf_tok_t5_add_replace_str(pf_tok_t5 *t, const char *pat, size_t pl, const char *content, size_t cl);
pf_status pf_tok_t5_add_replace_regex(pf_tok_t5 *t, const char *re, const char *content);

#endif /* PF_TOK_T5_H */
