/* A structural check of JPEG files that FFmpeg's decoder does not make:
 * that the file really ends with an end-of-image marker after its scans.
 * Internal; pure C. */
#ifndef PF_JPEG_CHECK_H
#define PF_JPEG_CHECK_H

#include "pf_common.h"

/* Walks the marker segments of a JPEG held in memory (skipping entropy-coded
 * scan data) and succeeds when an EOI marker follows at least one scan.
 * A file cut short anywhere fails with PF_ERR_FORMAT ("truncated"), broken
 * segment structure with PF_ERR_FORMAT ("corrupt"). Bytes after EOI (some
 * cameras append data) are ignored. `path` names the file in messages. */
pf_status pf_jpeg_check_complete(const char *path, const uint8_t *d, size_t n);

#endif /* PF_JPEG_CHECK_H */
