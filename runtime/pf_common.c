#include "pf_common.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#define PF_ERR_MSG_LEN 2048

static _Thread_local char pf_err_msg[PF_ERR_MSG_LEN];

const char *pf_status_str(pf_status s) {
    switch (s) {
    case PF_OK: return "ok";
    case PF_ERR_INVALID_ARG: return "invalid argument";
    case PF_ERR_IO: return "i/o error";
    case PF_ERR_FORMAT: return "format error";
    case PF_ERR_SHAPE: return "shape error";
    case PF_ERR_NOT_FOUND: return "not found";
    case PF_ERR_OOM: return "out of memory";
    case PF_ERR_UNSUPPORTED: return "unsupported";
    case PF_ERR_BACKEND: return "backend error";
    case PF_ERR_CANCELLED: return "cancelled";
    case PF_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *pf_last_error(void) { return pf_err_msg; }

void pf_clear_error(void) { pf_err_msg[0] = '\0'; }

const char *pf_version(void) { return "0.1.0"; }

pf_status pf_error(pf_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pf_err_msg, sizeof pf_err_msg, fmt, ap);
    va_end(ap);
    return s;
}

pf_status pf_error_wrap(pf_status s, const char *fmt, ...) {
    char old[PF_ERR_MSG_LEN];
    memcpy(old, pf_err_msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(pf_err_msg, sizeof pf_err_msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 2 < sizeof pf_err_msg) {
        size_t o = (size_t)n;
        pf_err_msg[o++] = ':';
        pf_err_msg[o++] = ' ';
        size_t room = sizeof pf_err_msg - o - 1;
        size_t len = strlen(old);
        if (len > room) len = room;
        memcpy(pf_err_msg + o, old, len);
        pf_err_msg[o + len] = '\0';
    }
    return s;
}

static pf_log_level pf_log_level_cur = (pf_log_level)-1;

pf_log_level pf_log_get_level(void) {
    if ((int)pf_log_level_cur < 0) {
        const char *e = getenv("PF_LOG");
        pf_log_level_cur = PF_LOG_INFO;
        if (e) {
            if (!strcmp(e, "error")) pf_log_level_cur = PF_LOG_ERROR;
            else if (!strcmp(e, "warn")) pf_log_level_cur = PF_LOG_WARN;
            else if (!strcmp(e, "debug")) pf_log_level_cur = PF_LOG_DEBUG;
        }
    }
    return pf_log_level_cur;
}

void pf_log_set_level(pf_log_level lvl) { pf_log_level_cur = lvl; }

void pf_log(pf_log_level lvl, const char *fmt, ...) {
    if (lvl > pf_log_get_level()) return;
    static const char *tags[] = {"error", "warning", "info", "debug"};
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pflow %s: ", tags[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void *pf_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) pf_error(PF_ERR_OOM, "out of host memory allocating %zu bytes for %s", n, what ? what : "?");
    return p;
}

void *pf_calloc(size_t count, size_t size, const char *what) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) pf_error(PF_ERR_OOM, "out of host memory allocating %zu x %zu bytes for %s", count, size, what ? what : "?");
    return p;
}

void *pf_realloc(void *p, size_t n, const char *what) {
    void *q = realloc(p, n ? n : 1);
    if (!q) pf_error(PF_ERR_OOM, "out of host memory growing %s to %zu bytes", what ? what : "?", n);
    return q;
}

char *pf_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = pf_malloc(n, "string");
    if (d) memcpy(d, s, n);
    return d;
}

void *pf_aligned_alloc(size_t n, const char *what) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? PF_ALIGN_UP(n, 64) : 64) != 0) {
        pf_error(PF_ERR_OOM, "out of host memory allocating %zu bytes for %s", n, what ? what : "?");
        return NULL;
    }
    return p;
}

void pf_aligned_free(void *p) { free(p); }

double pf_time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

pf_status pf_read_file(const char *path, char **data, size_t *len) {
    *data = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return pf_error(PF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return pf_error(PF_ERR_IO, "%s: cannot seek", path);
    }
    long sz = ftell(f);
    if (sz < 0) {
        fclose(f);
        return pf_error(PF_ERR_IO, "%s: cannot determine size", path);
    }
    rewind(f);
    char *buf = pf_malloc((size_t)sz + 1, path);
    if (!buf) {
        fclose(f);
        return PF_ERR_OOM;
    }
    if (sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        fclose(f);
        return pf_error(PF_ERR_IO, "%s: short read", path);
    }
    fclose(f);
    buf[sz] = '\0';
    *data = buf;
    if (len) *len = (size_t)sz;
    return PF_OK;
}

char *pf_path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    bool slash = la > 0 && a[la - 1] != '/';
    char *r = pf_malloc(la + lb + 2, "path");
    if (!r) return NULL;
    memcpy(r, a, la);
    if (slash) r[la++] = '/';
    memcpy(r + la, b, lb + 1);
    return r;
}

bool pf_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool pf_dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *pf_fmt_bytes(double bytes, char *buf, size_t n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, n, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
    return buf;
}
