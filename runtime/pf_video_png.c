/* The PNG-sequence back end of pf_video: frames_%04d.png through libpng.
 * Each frame is written to its own temporary file; finish renames them all,
 * so a failed or discarded run leaves no numbered frames behind. */
#include "pf_video_impl.h"

#ifdef PF_HAVE_PNG
#include "pf_outfile.h"
#include "pf_png.h"

#include <unistd.h>

/* A parsed frame-number pattern: prefix, the number, suffix (both literal,
 * "%%" already turned into "%"). */
typedef struct {
    char *prefix, *suffix;
    int width;  /* minimum digits */
    bool zero;  /* pad with zeros rather than spaces */
} pf_pattern;

static void pattern_free(pf_pattern *p) {
    free(p->prefix);
    free(p->suffix);
}

static pf_status pattern_parse(const char *path, pf_pattern *p) {
    memset(p, 0, sizeof *p);
    size_t n = strlen(path);
    char *lit[2];
    lit[0] = pf_malloc(n + 1, "PNG pattern");
    lit[1] = pf_malloc(n + 1, "PNG pattern");
    if (!lit[0] || !lit[1]) {
        free(lit[0]);
        free(lit[1]);
        return PF_ERR_OOM;
    }
    size_t len[2] = {0, 0};
    int part = 0; /* 0: before the conversion, 1: after it */
    pf_status s = PF_OK;
    for (size_t i = 0; i < n && s == PF_OK; i++) {
        if (path[i] != '%') {
            if (path[i] == '/' && part == 1)
                s = pf_error(PF_ERR_INVALID_ARG,
                             "%s: the frame number pattern must be in the file name, not in a directory name", path);
            lit[part][len[part]++] = path[i];
            continue;
        }
        if (path[i + 1] == '%') {
            lit[part][len[part]++] = '%';
            i++;
            continue;
        }
        size_t j = i + 1;
        bool zero = false;
        if (path[j] == '0') {
            zero = true;
            j++;
        }
        int width = 0;
        while (path[j] >= '0' && path[j] <= '9' && width < 100) width = width * 10 + (path[j++] - '0');
        if (path[j] != 'd')
            s = pf_error(PF_ERR_INVALID_ARG,
                         "%s: '%.*s' is not a frame number conversion; use %%d or a padded one such as %%04d (write "
                         "%%%% for a literal %%)",
                         path, (int)(j - i + (path[j] ? 1 : 0)), path + i);
        else if (part == 1)
            s = pf_error(PF_ERR_INVALID_ARG, "%s: the PNG pattern holds more than one frame number conversion",
                         path);
        else if (width > 10)
            s = pf_error(PF_ERR_INVALID_ARG, "%s: a frame number padded to %d digits is too wide (at most 10)", path,
                         width);
        p->width = width;
        p->zero = zero;
        part = 1;
        i = j;
    }
    if (s == PF_OK && part == 0)
        s = pf_error(PF_ERR_INVALID_ARG,
                     "%s: PNG output is a frame sequence and needs a frame number pattern in the file name, such as "
                     "frames_%%04d.png",
                     path);
    if (s != PF_OK) {
        free(lit[0]);
        free(lit[1]);
        return s;
    }
    lit[0][len[0]] = '\0';
    lit[1][len[1]] = '\0';
    p->prefix = lit[0];
    p->suffix = lit[1];
    return PF_OK;
}

static char *pattern_name(const pf_pattern *p, int number) {
    size_t cap = strlen(p->prefix) + strlen(p->suffix) + 32;
    char *name = pf_malloc(cap, "frame file name");
    if (!name) return NULL;
    if (p->zero)
        snprintf(name, cap, "%s%0*d%s", p->prefix, p->width, number, p->suffix);
    else
        snprintf(name, cap, "%s%*d%s", p->prefix, p->width, number, p->suffix);
    return name;
}

typedef struct {
    pf_pattern pat;
    char **tmp;   /* [n] temporary files */
    char **final; /* [n] their destinations */
    int n, cap;
} png_seq;

static pf_status png_check(pf_video_format f, const char *path, int w, int h, double fps) {
    (void)f, (void)w, (void)h, (void)fps;
    pf_pattern p;
    PF_TRY(pattern_parse(path, &p));
    pattern_free(&p);
    return PF_OK;
}

static void seq_free(png_seq *q) {
    for (int i = 0; i < q->n; i++) {
        free(q->tmp[i]);
        free(q->final[i]);
    }
    free(q->tmp);
    free(q->final);
    pattern_free(&q->pat);
    free(q);
}

static pf_status png_open(pf_video_writer *w) {
    png_seq *q = pf_calloc(1, sizeof *q, "PNG sequence writer");
    if (!q) return PF_ERR_OOM;
    w->impl = q;
    return pattern_parse(w->path, &q->pat);
}

static pf_status png_write(pf_video_writer *w, const uint8_t *rgb) {
    png_seq *q = w->impl;
    if (q->n == q->cap) {
        int cap = q->cap ? q->cap * 2 : 32;
        char **t = pf_realloc(q->tmp, sizeof(char *) * (size_t)cap, "PNG file list");
        if (!t) return PF_ERR_OOM;
        q->tmp = t;
        char **f = pf_realloc(q->final, sizeof(char *) * (size_t)cap, "PNG file list");
        if (!f) return PF_ERR_OOM;
        q->final = f;
        q->cap = cap;
    }
    char *name = pattern_name(&q->pat, w->png_start + w->frames);
    if (!name) return PF_ERR_OOM;
    char *tmp = NULL;
    pf_status s = pf_outfile_create_tmp(name, &tmp);
    if (s == PF_OK) s = pf_png_write_file(name, tmp, rgb, w->width, w->height);
    if (s != PF_OK) {
        pf_outfile_discard(tmp);
        free(tmp);
        free(name);
        return s;
    }
    q->tmp[q->n] = tmp;
    q->final[q->n] = name;
    q->n++;
    return PF_OK;
}

static void png_discard(pf_video_writer *w) {
    png_seq *q = w->impl;
    w->impl = NULL;
    if (!q) return;
    for (int i = 0; i < q->n; i++) pf_outfile_discard(q->tmp[i]);
    seq_free(q);
}

static pf_status png_finish(pf_video_writer *w) {
    png_seq *q = w->impl;
    for (int i = 0; i < q->n; i++) {
        pf_status s = pf_outfile_commit(q->tmp[i], q->final[i]);
        if (s != PF_OK) {
            /* All or nothing: take back the frames already moved into place
             * (commit removed this one's temporary; discard removes the rest). */
            for (int k = 0; k < i; k++) unlink(q->final[k]);
            for (int k = 0; k <= i; k++) {
                free(q->tmp[k]);
                q->tmp[k] = NULL;
            }
            png_discard(w);
            return s;
        }
    }
    w->impl = NULL;
    seq_free(q);
    return PF_OK;
}

const pf_video_backend pf_video_backend_png = {
    .check = png_check,
    .open = png_open,
    .write = png_write,
    .finish = png_finish,
    .discard = png_discard,
};
#endif /* PF_HAVE_PNG */
