/*
 * spiece.model reader: the few fields of sentencepiece's ModelProto
 * (sentencepiece_model.proto) that a T5TokenizerFast conversion uses.
 *
 *   ModelProto      1: repeated SentencePiece pieces   2: TrainerSpec   3: NormalizerSpec
 *   SentencePiece   1: piece (string)  2: score (float)  3: type (enum, default NORMAL)
 *   TrainerSpec     3: model_type  35: byte_fallback  40..43: unk/bos/eos/pad id
 *   NormalizerSpec  2: precompiled_charsmap  3: add_dummy_prefix
 *                   4: remove_extra_whitespaces  5: escape_whitespaces
 *
 * Everything else is skipped by wire type. Every read is bounds-checked: a
 * truncated or corrupt file is a PF_ERR_FORMAT naming the file and offset.
 */
#include "tok_internal.h"

typedef struct pb {
    const uint8_t *p;
    size_t n, i;
    const char *label;
    size_t base; /* offset of p inside the file, for messages */
} pb;

static pf_status pb_varint(pb *b, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (b->i >= b->n)
            return pf_error(PF_ERR_FORMAT, "%s: truncated varint at byte %zu", b->label, b->base + b->i);
        uint8_t c = b->p[b->i++];
        if (shift == 63 && (c & 0x7E))
            return pf_error(PF_ERR_FORMAT, "%s: varint overflow at byte %zu", b->label, b->base + b->i);
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return PF_OK;
        }
    }
    return pf_error(PF_ERR_FORMAT, "%s: varint longer than 10 bytes at byte %zu", b->label, b->base + b->i);
}

/* Read a field header; *wire is the wire type. */
static pf_status pb_tag(pb *b, uint32_t *field, int *wire) {
    uint64_t t = 0;
    PF_TRY(pb_varint(b, &t));
    *field = (uint32_t)(t >> 3);
    *wire = (int)(t & 7);
    if (*field == 0 || t >> 32)
        return pf_error(PF_ERR_FORMAT, "%s: invalid field tag at byte %zu", b->label, b->base + b->i);
    return PF_OK;
}

/* A length-delimited payload: returns a sub-reader over it. */
static pf_status pb_bytes(pb *b, pb *sub) {
    uint64_t len = 0;
    PF_TRY(pb_varint(b, &len));
    if (len > b->n - b->i)
        return pf_error(PF_ERR_FORMAT, "%s: field of %llu bytes at byte %zu runs past the end (%zu left)", b->label,
                        (unsigned long long)len, b->base + b->i, b->n - b->i);
    *sub = (pb){b->p + b->i, (size_t)len, 0, b->label, b->base + b->i};
    b->i += (size_t)len;
    return PF_OK;
}

static pf_status pb_fixed32(pb *b, uint32_t *v) {
    if (b->n - b->i < 4) return pf_error(PF_ERR_FORMAT, "%s: truncated 32-bit field at byte %zu", b->label, b->base + b->i);
    const uint8_t *q = b->p + b->i;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    b->i += 4;
    return PF_OK;
}

static pf_status pb_skip(pb *b, int wire) {
    uint64_t v = 0;
    pb sub = {0};
    switch (wire) {
    case 0: return pb_varint(b, &v);
    case 1:
        if (b->n - b->i < 8) return pf_error(PF_ERR_FORMAT, "%s: truncated 64-bit field at byte %zu", b->label, b->base + b->i);
        b->i += 8;
        return PF_OK;
    case 2: return pb_bytes(b, &sub);
    case 5:
        if (b->n - b->i < 4) return pf_error(PF_ERR_FORMAT, "%s: truncated 32-bit field at byte %zu", b->label, b->base + b->i);
        b->i += 4;
        return PF_OK;
    default:
        return pf_error(PF_ERR_FORMAT, "%s: unsupported protobuf wire type %d at byte %zu", b->label, wire, b->base + b->i);
    }
}

static pf_status expect_wire(pb *b, uint32_t field, int wire, int want, const char *what) {
    if (wire != want)
        return pf_error(PF_ERR_FORMAT, "%s: field %u (%s) has wire type %d, expected %d (byte %zu)", b->label, field,
                        what, wire, want, b->base + b->i);
    return PF_OK;
}

static pf_status parse_piece(pb *b, pf_spm_model *m) {
    if (m->n_pieces == m->cap_pieces) {
        if (m->cap_pieces > INT32_MAX / 4) return pf_error(PF_ERR_FORMAT, "%s: too many pieces", b->label);
        int cap = m->cap_pieces ? m->cap_pieces * 2 : 1024;
        pf_spm_piece *p = pf_realloc(m->pieces, (size_t)cap * sizeof *p, "spiece pieces");
        if (!p) return PF_ERR_OOM;
        m->pieces = p;
        m->cap_pieces = cap;
    }
    pf_spm_piece pc = {m->strs.n, 0, 0.0f, PF_SPM_NORMAL};
    bool have_piece = false;
    while (b->i < b->n) {
        uint32_t f;
        int w;
        uint64_t v = 0;
        PF_TRY(pb_tag(b, &f, &w));
        if (f == 1) {
            pb s = {0};
            PF_TRY(expect_wire(b, f, w, 2, "piece"));
            PF_TRY(pb_bytes(b, &s));
            if (!pf_tok_utf8_valid((const char *)s.p, s.n))
                return pf_error(PF_ERR_FORMAT, "%s: piece %d is not valid UTF-8 (byte %zu)", b->label, m->n_pieces,
                                s.base);
            pc.off = m->strs.n;
            pc.len = s.n;
            PF_TRY(pf_tok_buf_put(&m->strs, s.p, s.n));
            have_piece = true;
        } else if (f == 2) {
            uint32_t u = 0;
            PF_TRY(expect_wire(b, f, w, 5, "score"));
            PF_TRY(pb_fixed32(b, &u));
            memcpy(&pc.score, &u, 4);
        } else if (f == 3) {
            PF_TRY(expect_wire(b, f, w, 0, "type"));
            PF_TRY(pb_varint(b, &v));
            pc.type = (int)(int32_t)v;
        } else {
            PF_TRY(pb_skip(b, w));
        }
    }
    if (!have_piece) return pf_error(PF_ERR_FORMAT, "%s: piece %d has no text (byte %zu)", b->label, m->n_pieces, b->base);
    if (pc.score != pc.score) return pf_error(PF_ERR_FORMAT, "%s: piece %d has a NaN score", b->label, m->n_pieces);
    m->pieces[m->n_pieces++] = pc;
    return PF_OK;
}

static pf_status parse_int_field(pb *b, uint32_t f, int w, const char *what, int64_t *out) {
    uint64_t v = 0;
    PF_TRY(expect_wire(b, f, w, 0, what));
    PF_TRY(pb_varint(b, &v));
    *out = (int64_t)v;
    return PF_OK;
}

static pf_status parse_trainer(pb *b, pf_spm_model *m) {
    while (b->i < b->n) {
        uint32_t f;
        int w;
        int64_t v = 0;
        PF_TRY(pb_tag(b, &f, &w));
        switch (f) {
        case 3: PF_TRY(parse_int_field(b, f, w, "model_type", &v)); m->model_type = (int)v; break;
        case 35: PF_TRY(parse_int_field(b, f, w, "byte_fallback", &v)); m->byte_fallback = v != 0; break;
        case 40: PF_TRY(parse_int_field(b, f, w, "unk_id", &v)); m->unk_id = (int32_t)v; break;
        case 41: PF_TRY(parse_int_field(b, f, w, "bos_id", &v)); m->bos_id = (int32_t)v; break;
        case 42: PF_TRY(parse_int_field(b, f, w, "eos_id", &v)); m->eos_id = (int32_t)v; break;
        case 43: PF_TRY(parse_int_field(b, f, w, "pad_id", &v)); m->pad_id = (int32_t)v; break;
        default: PF_TRY(pb_skip(b, w));
        }
    }
    return PF_OK;
}

static pf_status parse_normalizer(pb *b, pf_spm_model *m) {
    while (b->i < b->n) {
        uint32_t f;
        int w;
        int64_t v = 0;
        PF_TRY(pb_tag(b, &f, &w));
        if (f == 2) {
            pb s = {0};
            PF_TRY(expect_wire(b, f, w, 2, "precompiled_charsmap"));
            PF_TRY(pb_bytes(b, &s));
            free(m->charsmap);
            m->charsmap = pf_malloc(s.n ? s.n : 1, "precompiled_charsmap");
            if (!m->charsmap) return PF_ERR_OOM;
            if (s.n) memcpy(m->charsmap, s.p, s.n);
            m->charsmap_len = s.n;
        } else if (f == 3) {
            PF_TRY(parse_int_field(b, f, w, "add_dummy_prefix", &v));
            m->add_dummy_prefix = v != 0;
        } else if (f == 4) {
            PF_TRY(parse_int_field(b, f, w, "remove_extra_whitespaces", &v));
            m->remove_extra_whitespaces = v != 0;
        } else if (f == 5) {
            PF_TRY(parse_int_field(b, f, w, "escape_whitespaces", &v));
            m->escape_whitespaces = v != 0;
        } else {
            PF_TRY(pb_skip(b, w));
        }
    }
    return PF_OK;
}

pf_status pf_spm_model_parse(const uint8_t *data, size_t n, const char *label, pf_spm_model *m) {
    memset(m, 0, sizeof *m);
    /* proto2 defaults */
    m->model_type = PF_SPM_UNIGRAM;
    m->unk_id = 0;
    m->bos_id = 1;
    m->eos_id = 2;
    m->pad_id = -1;
    m->add_dummy_prefix = m->remove_extra_whitespaces = m->escape_whitespaces = true;

    pb b = {data, n, 0, label, 0};
    pf_status st = PF_OK;
    while (st == PF_OK && b.i < b.n) {
        uint32_t f;
        int w;
        pb sub = {0};
        st = pb_tag(&b, &f, &w);
        if (st != PF_OK) break;
        if (f >= 1 && f <= 3) {
            st = expect_wire(&b, f, w, 2, f == 1 ? "pieces" : f == 2 ? "trainer_spec" : "normalizer_spec");
            if (st == PF_OK) st = pb_bytes(&b, &sub);
            if (st == PF_OK)
                st = f == 1 ? parse_piece(&sub, m) : f == 2 ? parse_trainer(&sub, m) : parse_normalizer(&sub, m);
        } else {
            st = pb_skip(&b, w);
        }
    }
    if (st == PF_OK && m->n_pieces == 0) st = pf_error(PF_ERR_FORMAT, "%s: no pieces (not a sentencepiece model?)", label);
    if (st != PF_OK) pf_spm_model_free(m);
    return st;
}

void pf_spm_model_free(pf_spm_model *m) {
    pf_tok_buf_free(&m->strs);
    free(m->pieces);
    free(m->charsmap);
    memset(m, 0, sizeof *m);
}
