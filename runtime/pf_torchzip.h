/*
 * Files written by torch.save(state_dict) (PyTorch >= 1.6 zip format), read
 * without Python: a stored (uncompressed) zip holding <prefix>/data.pkl, a
 * protocol-2 pickle of an OrderedDict name -> tensor whose storages are
 * persistent ids naming the entries <prefix>/data/<key>.
 *
 * Only what torch.save writes for a state dict is accepted: the globals
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter
 * and the typed storage classes (Float, Half, BFloat16, Double, Long, Int, Byte,
 * Bool). Anything else is an error naming the opcode or global and its offset.
 * Tensors are exposed like safetensors tensors: contiguous, row-major, aligned
 * to their element size (non-contiguous or misaligned ones are copied).
 */
#ifndef PF_TORCHZIP_H
#define PF_TORCHZIP_H

#include "pf_safetensors.h"

typedef struct pf_torchzip pf_torchzip;

pf_status pf_tz_open(const char *path, pf_torchzip **out);
/* Over a buffer the caller keeps alive while the result is open (fuzzers, tests). */
pf_status pf_tz_open_memory(const void *data, size_t size, const char *label, pf_torchzip **out);
void pf_tz_close(pf_torchzip *z);

const char *pf_tz_path(const pf_torchzip *z);
/* Tensors in state_dict order. */
int pf_tz_count(const pf_torchzip *z);
const pf_st_tensor *pf_tz_at(const pf_torchzip *z, int i);
const pf_st_tensor *pf_tz_find(const pf_torchzip *z, const char *name);

#endif /* PF_TORCHZIP_H */
