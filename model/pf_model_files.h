/*
 * Writing model folders: the helpers behind pf_dit_save, pf_vae_save and the tiny
 * model writer. Files appear complete or not at all: each is written to a hidden
 * temporary name in its folder and renamed over the destination at the end.
 */
#ifndef PF_MODEL_FILES_H
#define PF_MODEL_FILES_H

#include "pf_backend.h"
#include "pf_safetensors.h"

/* Create a folder and its missing parents (mode 0755). An existing folder is fine;
 * an existing file of that name is PF_ERR_IO. */
pf_status pf_mkdir_p(const char *dir);

/* Write n bytes (or `text`) to dir/name through a temporary file renamed at the end. */
pf_status pf_write_file(const char *dir, const char *name, const void *data, size_t n);
pf_status pf_write_text_file(const char *dir, const char *name, const char *text);

/* Host tensors into dir/name as safetensors with metadata {"format": "pt"} (as transformers
 * and diffusers write), through a temporary file renamed at the end. */
pf_status pf_write_safetensors(const char *dir, const char *name, const pf_st_write_tensor *t, int n);

/* Every tensor of a weight pool, in allocation order, under its own name and in its
 * own dtype, into dir/name (pf_write_safetensors). The tensors are downloaded to host memory
 * first (the whole pool at once). Names that fill PF_NAME_LEN - 1 characters may
 * have been truncated and are refused. */
pf_status pf_save_pool_safetensors(const pf_pool *pool, const char *dir, const char *name);

#endif /* PF_MODEL_FILES_H */
