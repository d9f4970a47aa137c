/*
 * safetensors files: read (mmap, strict validation) and write.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [b, e]}, "__metadata__": {str: str}},
 * then the data section; offsets are relative to its start.
 */
#ifndef PF_SAFETENSORS_H
#define PF_SAFETENSORS_H

#include "pf_graph.h"

typedef struct pf_st_file pf_st_file;

/* Files may hold tensors with more dims than the graph IR's PF_MAX_DIMS (the golden
 * pack's out.dbg.rope has 6), so readers accept up to PF_ST_MAX_DIMS; code that turns a
 * file tensor into a graph tensor checks ndim <= PF_MAX_DIMS itself. */
#define PF_ST_MAX_DIMS 8

typedef struct pf_st_tensor {
    const char *name;
    pf_dtype dtype;
    int ndim;
    int64_t shape[PF_ST_MAX_DIMS];
    const void *data; /* points into the mapping; little-endian, row-major */
    size_t nbytes;
} pf_st_tensor;

/* Open and validate the whole header. Errors name the file, the tensor and the problem
 * (truncated file, bad header length, invalid JSON, unknown dtype, shape/bytes mismatch,
 * offsets out of range or overlapping, more than PF_ST_MAX_DIMS dims, ...). */
pf_status pf_st_open(const char *path, pf_st_file **out);
/* Same, over a memory buffer the caller keeps alive (used by fuzzers and tests). */
pf_status pf_st_open_memory(const void *data, size_t size, const char *label, pf_st_file **out);
void pf_st_close(pf_st_file *f);

const char *pf_st_path(const pf_st_file *f);
int pf_st_count(const pf_st_file *f);
const pf_st_tensor *pf_st_at(const pf_st_file *f, int i);
const pf_st_tensor *pf_st_find(const pf_st_file *f, const char *name);
/* A __metadata__ value, or NULL. */
const char *pf_st_metadata(const pf_st_file *f, const char *key);

/* Writing. Tensors are written in the order given, 8-byte aligned. */
typedef struct pf_st_write_tensor {
    const char *name;
    pf_dtype dtype;
    int ndim;
    const int64_t *shape;
    const void *data;
} pf_st_write_tensor;

pf_status pf_st_write(const char *path, const pf_st_write_tensor *tensors, int n, const char *const *meta_keys,
                      const char *const *meta_values, int n_meta);

#endif /* PF_SAFETENSORS_H */
