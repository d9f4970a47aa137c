/*
 * Weight store: tensors looked up by their official names across the files of
 * one model component (single safetensors, sharded safetensors with an index,
 * or a PyTorch zip pickle written by torch.save), converted to the dtype a
 * backend wants on load.
 *
 * Model loaders use pf_loader: declare every expected tensor with its shape;
 * problems accumulate instead of stopping at the first one, and
 * pf_loader_finish reports all missing / mis-shaped tensors in one error.
 */
#ifndef PF_WEIGHTS_H
#define PF_WEIGHTS_H

#include "pf_backend.h"
#include "pf_safetensors.h"

typedef struct pf_weights pf_weights;

typedef struct pf_weight_info {
    const char *name;
    pf_dtype dtype;          /* dtype in the file */
    int ndim;                /* may exceed PF_MAX_DIMS (up to PF_ST_MAX_DIMS): such tensors never load */
    int64_t shape[PF_ST_MAX_DIMS];
    const char *file;        /* the file holding it */
} pf_weight_info;

/* Open a component folder. Looks for, in order: model.safetensors.index.json /
 * diffusion_pytorch_model.safetensors.index.json (sharded), *.safetensors
 * (diffusion_pytorch_model.safetensors, model.safetensors), then
 * diffusion_pytorch_model.bin / pytorch_model.bin (torch zip). */
pf_status pf_weights_open_dir(const char *dir, pf_weights **out);
/* Open one file: .safetensors, .bin/.pt (torch zip) or *.index.json (sharded). */
pf_status pf_weights_open_file(const char *path, pf_weights **out);
void pf_weights_close(pf_weights *w);

int pf_weights_count(const pf_weights *w);
const pf_weight_info *pf_weights_at(const pf_weights *w, int i);
const pf_weight_info *pf_weights_find(const pf_weights *w, const char *name);
/* Description of where the weights came from ("dir/model.safetensors (+1 shard)"). */
const char *pf_weights_source(const pf_weights *w);

/* Read a tensor into host memory converted to dt; n must equal its element count. */
pf_status pf_weights_read(const pf_weights *w, const char *name, pf_dtype dt, void *dst, size_t n);

/* ---- loading for models ---- */
typedef struct pf_loader {
    const pf_weights *w;
    pf_pool *pool;       /* where tensors are placed (NULL: check only, no allocation) */
    pf_dtype dtype;      /* dtype for float weights on the backend (f32 / bf16 / f16) */
    const char *what;    /* component name used in messages ("DiT", "VAE", ...) */
    int n_errors;
    char *errors;        /* accumulated messages, one per line */
    size_t errors_len;
    int64_t n_params;    /* elements loaded so far */
    pf_status first_status; /* status of the first problem recorded (what pf_loader_finish returns) */
} pf_loader;

void pf_loader_init(pf_loader *L, const pf_weights *w, pf_pool *pool, pf_dtype dtype, const char *what);
/* Load a float tensor with the expected shape (ndim dims follow, as int64_t). On a
 * problem, records it and returns NULL; later calls go on. */
pf_tensor *pf_load(pf_loader *L, const char *name, int ndim, ...);
/* Same with a printf-formatted name and a shape array. */
pf_tensor *pf_loadf(pf_loader *L, int ndim, const int64_t *shape, const char *fmt, ...) PF_PRINTF(4, 5);
/* Same, keeping a given dtype instead of L->dtype (e.g. f32 for tables read by kernels). */
pf_tensor *pf_load_as(pf_loader *L, pf_dtype dt, const char *name, int ndim, const int64_t *shape);
/* Try several names (first present wins), e.g. "shared.weight" / "encoder.embed_tokens.weight". */
pf_tensor *pf_load_alt(pf_loader *L, int ndim, const int64_t *shape, const char *const *names, int n_names);
/* Read into host memory (f32) with shape check; records problems like pf_load. */
bool pf_load_host(pf_loader *L, const char *name, int ndim, const int64_t *shape, float *dst);
/* Record a problem found by the model code itself (e.g. config inconsistencies). */
void pf_loader_fail(pf_loader *L, const char *fmt, ...) PF_PRINTF(2, 3);
/* PF_OK if nothing was recorded, else one error listing every problem (and the file).
 * Frees the accumulated messages either way. */
pf_status pf_loader_finish(pf_loader *L);

#endif /* PF_WEIGHTS_H */
