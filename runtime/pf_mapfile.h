/*
 * Read-only whole-file mappings for the weight readers (safetensors, torch zip).
 * Weight files are large and read once or twice, so they are mmap'ed rather than
 * copied; an empty file maps to (NULL, 0) instead of failing in mmap.
 */
#ifndef PF_MAPFILE_H
#define PF_MAPFILE_H

#include "pf_common.h"

typedef struct pf_mapfile {
    const uint8_t *data;
    size_t size;
} pf_mapfile;

/* Map a regular file. Errors (PF_ERR_IO) name the path and the reason. */
pf_status pf_mapfile_open(const char *path, pf_mapfile *m);
void pf_mapfile_close(pf_mapfile *m);

#endif /* PF_MAPFILE_H */
