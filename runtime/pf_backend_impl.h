/* Internal: constructors of the backends compiled into this build. */
#ifndef PF_BACKEND_IMPL_H
#define PF_BACKEND_IMPL_H

#include "pf_backend.h"

pf_status pf_backend_cpu_create(const pf_backend_options *opts, pf_backend **out);
#ifdef PF_HAVE_CUDA
pf_status pf_backend_cuda_create(const pf_backend_options *opts, pf_backend **out);
#endif
#ifdef PF_HAVE_VULKAN
pf_status pf_backend_vulkan_create(const pf_backend_options *opts, pf_backend **out);
#endif

#endif /* PF_BACKEND_IMPL_H */
