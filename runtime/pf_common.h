/* Internal helpers shared by every layer: errors, logging, allocation. */
#ifndef PF_COMMON_H
#define PF_COMMON_H

#include "pflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define PF_UNUSED __attribute__((unused))
#else
#define PF_PRINTF(a, b)
#define PF_UNUSED
#endif

#define PF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define PF_CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
#define PF_ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))

/* Record an error message for this thread and return the status, so that
 * `return pf_error(PF_ERR_FORMAT, "%s: ...", path);` reads naturally. */
pf_status pf_error(pf_status s, const char *fmt, ...) PF_PRINTF(2, 3);

/* Prefix the current error message with more context ("loading DiT: ..."). */
pf_status pf_error_wrap(pf_status s, const char *fmt, ...) PF_PRINTF(2, 3);

/* Propagate a failing status. */
#define PF_TRY(expr)                      \
    do {                                  \
        pf_status pf_try_s_ = (expr);     \
        if (pf_try_s_ != PF_OK)           \
            return pf_try_s_;             \
    } while (0)

/* Logging. Level from PF_LOG (error|warn|info|debug), default info. */
typedef enum { PF_LOG_ERROR = 0, PF_LOG_WARN, PF_LOG_INFO, PF_LOG_DEBUG } pf_log_level;
void pf_log(pf_log_level lvl, const char *fmt, ...) PF_PRINTF(2, 3);
void pf_log_set_level(pf_log_level lvl);
pf_log_level pf_log_get_level(void);
#define PF_WARN(...) pf_log(PF_LOG_WARN, __VA_ARGS__)
#define PF_INFO(...) pf_log(PF_LOG_INFO, __VA_ARGS__)
#define PF_DEBUG(...) pf_log(PF_LOG_DEBUG, __VA_ARGS__)

/* Allocation that reports OOM through pf_error (returns NULL, sets the message). */
void *pf_malloc(size_t n, const char *what);
void *pf_calloc(size_t count, size_t size, const char *what);
void *pf_realloc(void *p, size_t n, const char *what);
char *pf_strdup(const char *s);
/* 64-byte aligned; free with pf_aligned_free. */
void *pf_aligned_alloc(size_t n, const char *what);
void pf_aligned_free(void *p);

/* Monotonic wall clock in seconds. */
double pf_time_now(void);

/* Read a whole file (adds a terminating NUL, not counted in *len). */
pf_status pf_read_file(const char *path, char **data, size_t *len);
/* Join two path components into a freshly allocated string. */
char *pf_path_join(const char *a, const char *b);
bool pf_file_exists(const char *path);
bool pf_dir_exists(const char *path);

/* Human-readable byte count into buf ("1.50 GiB"). */
const char *pf_fmt_bytes(double bytes, char *buf, size_t n);

#endif /* PF_COMMON_H */
