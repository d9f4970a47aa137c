/*
 * pflow: Pyramid Flow video generation in C.
 *
 * The one public header of the library. Every function returns a pf_status;
 * on failure pf_last_error() gives a message naming what was wrong (file,
 * tensor, argument). The library never exits the process.
 */
#ifndef PFLOW_H
#define PFLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 1
#define PF_VERSION_PATCH 0

typedef enum pf_status {
    PF_OK = 0,
    PF_ERR_INVALID_ARG,   /* bad argument from the caller */
    PF_ERR_IO,            /* file missing, unreadable, unwritable */
    PF_ERR_FORMAT,        /* malformed or truncated file */
    PF_ERR_SHAPE,         /* tensor shape or dtype mismatch */
    PF_ERR_NOT_FOUND,     /* missing tensor, component or key */
    PF_ERR_OOM,           /* host or device out of memory */
    PF_ERR_UNSUPPORTED,   /* op/dtype/feature not supported by this build or backend */
    PF_ERR_BACKEND,       /* backend/driver error */
    PF_ERR_CANCELLED,     /* cancelled through the progress callback */
    PF_ERR_INTERNAL,      /* a bug in pflow */
} pf_status;

/* Short name of a status code ("format error", ...). */
const char *pf_status_str(pf_status s);

/* Message of the last error raised on this thread ("" if none). */
const char *pf_last_error(void);

/* Clear this thread's error message. */
void pf_clear_error(void);

/* Library version string, e.g. "0.1.0". */
const char *pf_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PFLOW_H */
