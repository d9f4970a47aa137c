/* A small persistent thread pool for data-parallel loops. */
#ifndef PF_THREADS_H
#define PF_THREADS_H

#include "pf_common.h"

typedef struct pf_threadpool pf_threadpool;

/* fn(ctx, begin, end, thread) handles items [begin, end). */
typedef void (*pf_range_fn)(void *ctx, int64_t begin, int64_t end, int thread);

/* n_threads <= 0: number of online CPUs. */
pf_status pf_threadpool_create(int n_threads, pf_threadpool **out);
void pf_threadpool_free(pf_threadpool *p);
int pf_threadpool_size(const pf_threadpool *p);
/* Split [0, n) into contiguous ranges of at least `grain` items over the threads
 * (the caller's thread takes part) and wait for all of them. p may be NULL. */
void pf_parallel_for(pf_threadpool *p, int64_t n, int64_t grain, pf_range_fn fn, void *ctx);
int pf_cpu_count(void);

#endif /* PF_THREADS_H */
