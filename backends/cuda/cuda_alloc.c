/*
 * Caching device allocator.
 *
 * cudaMalloc/cudaFree are slow (cudaFree also synchronises the device), and the
 * runtime allocates in bursts (arena chunks when a larger graph is planned,
 * weight pools at load, per-node scratch for GEMM operand conversions), so freed
 * blocks go to free lists and are handed out again:
 *  - up to 32 MiB: 8 size classes per power of two (512 B minimum), one LIFO list
 *    per class, O(1) reuse, at most 12.5 % rounding slack;
 *  - above: sizes round to 2 MiB and free blocks sit in one list sorted by size;
 *    a request takes the smallest block that fits if it wastes at most 1/8.
 * Blocks are never split, so a block's address stays 256-byte aligned (cudaMalloc's
 * guarantee) and the planner's alignment holds.
 *
 * All device work runs on one stream, so a block released while kernels that use
 * it are still queued can be reused at once: the next user is queued behind them.
 * When cudaMalloc fails, the cache is returned to the device (after synchronising
 * the stream) and the allocation tried once more; a final failure reports the size
 * asked for and what the device and the cache hold.
 */
#include "cuda_impl.h"

int pf_cuda_size_class(size_t size, size_t *rounded) {
    if (size <= 512) {
        *rounded = 512;
        return 0;
    }
    if (size > PF_CUDA_SMALL_MAX) {
        *rounded = PF_ALIGN_UP(size, PF_CUDA_LARGE_ROUND);
        return -1;
    }
    int p = 64 - __builtin_clzll((unsigned long long)(size - 1)); /* 2^(p-1) < size <= 2^p, p >= 10 */
    size_t step = (size_t)1 << (p - 4);                           /* 8 steps from 2^(p-1) to 2^p */
    size_t r = PF_ALIGN_UP(size, step);
    int k = (int)(r / step) - 8; /* 1..8 */
    *rounded = r;
    return 1 + (p - 10) * 8 + (k - 1);
}

static void pf_large_remove(pf_cuda_allocator *a, int i) {
    memmove(&a->large[i], &a->large[i + 1], (size_t)(a->n_large - i - 1) * sizeof *a->large);
    a->n_large--;
}

/* Take a cached block for a rounded size, or NULL. */
static pf_cuda_block *pf_cache_take(pf_cuda_allocator *a, int cls, size_t rounded) {
    if (cls >= 0) {
        pf_cuda_block *b = a->small[cls];
        if (b) a->small[cls] = b->next;
        return b;
    }
    /* first block >= rounded (binary search over ascending sizes) */
    int lo = 0, hi = a->n_large;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (a->large[mid]->size < rounded)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == a->n_large || a->large[lo]->size > rounded + rounded / 8) return NULL;
    pf_cuda_block *b = a->large[lo];
    pf_large_remove(a, lo);
    return b;
}

static pf_status pf_device_free(pf_cuda_allocator *a, pf_cuda_block *b) {
    size_t size = b->size;
    cudaError_t e = cudaFree(b->ptr);
    a->n_free++;
    free(b);
    if (e != cudaSuccess) {
        char s[32];
        return pf_cuda_error(e, "cudaFree", "returning a cached block of %s to the device",
                             pf_fmt_bytes((double)size, s, sizeof s));
    }
    return PF_OK;
}

pf_status pf_cuda_trim(pf_cuda_allocator *a) {
    if (a->cached == 0) return PF_OK;
    /* the cached blocks may still be read by queued work; cudaFree after it is done */
    pf_status rc = PF_OK;
    cudaError_t e = cudaStreamSynchronize(a->stream);
    if (e != cudaSuccess) rc = pf_cuda_error(e, "cudaStreamSynchronize", "emptying the CUDA memory cache");
    for (int c = 0; c < PF_CUDA_N_CLASSES; c++) {
        while (a->small[c]) {
            pf_cuda_block *b = a->small[c];
            a->small[c] = b->next;
            a->cached -= b->size;
            pf_status r = pf_device_free(a, b);
            if (rc == PF_OK) rc = r;
        }
    }
    while (a->n_large > 0) {
        pf_cuda_block *b = a->large[a->n_large - 1];
        a->n_large--;
        a->cached -= b->size;
        pf_status r = pf_device_free(a, b);
        if (rc == PF_OK) rc = r;
    }
    return rc;
}

pf_status pf_cuda_alloc(pf_cuda_allocator *a, size_t size, const char *what, pf_cuda_block **out) {
    *out = NULL;
    size_t rounded;
    int cls = pf_cuda_size_class(size ? size : 1, &rounded);
    pf_cuda_block *b = pf_cache_take(a, cls, rounded);
    if (b) {
        a->cached -= b->size;
        a->n_hits++;
    } else {
        b = calloc(1, sizeof *b);
        if (!b) return pf_error(PF_ERR_OOM, "out of host memory (CUDA block record)");
        b->cls = cls;
        b->size = rounded;
        void *p = NULL;
        cudaError_t e = cudaMalloc(&p, rounded);
        if (e == cudaErrorMemoryAllocation && a->cached > 0 && !a->capturing) {
            (void)cudaGetLastError(); /* clear it: the retry decides */
            pf_status rc = pf_cuda_trim(a);
            if (rc != PF_OK) {
                free(b);
                return rc;
            }
            e = cudaMalloc(&p, rounded);
        }
        if (e != cudaSuccess) {
            free(b);
            (void)cudaGetLastError();
            size_t fr = 0, tot = 0;
            if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
                (void)cudaGetLastError();
                fr = tot = 0;
            }
            char s1[32], s2[32], s3[32], s4[32], s5[32];
            pf_fmt_bytes((double)size, s1, sizeof s1);
            pf_fmt_bytes((double)fr, s2, sizeof s2);
            pf_fmt_bytes((double)tot, s3, sizeof s3);
            pf_fmt_bytes((double)a->in_use, s4, sizeof s4);
            pf_fmt_bytes((double)a->cached, s5, sizeof s5);
            return pf_error(e == cudaErrorMemoryAllocation ? PF_ERR_OOM : PF_ERR_BACKEND,
                            "CUDA out of memory: asked for %s (%zu bytes) for %s; the device has %s free of %s "
                            "(this backend holds %s in use and %s cached): cudaMalloc: CUDA error %d %s (%s)",
                            s1, size, what ? what : "a buffer", s2, s3, s4, s5, (int)e, cudaGetErrorName(e),
                            cudaGetErrorString(e));
        }
        b->ptr = p;
        a->n_malloc++;
    }
    b->requested = size;
    b->owner = NULL;
    b->next = NULL;
    a->in_use += b->size;
    a->requested += size;
    if (a->in_use > a->peak) a->peak = a->in_use;
    *out = b;
    return PF_OK;
}

void pf_cuda_release(pf_cuda_allocator *a, pf_cuda_block *b) {
    /* a captured graph's scratch stays the graph's until the graph is freed: handed out
     * again now, a replay would write into its new user's data */
    if (!b || b->owner) return;
    a->in_use -= b->size;
    a->requested -= b->requested;
    if (b->cls >= 0) {
        b->next = a->small[b->cls];
        a->small[b->cls] = b;
        a->cached += b->size;
        return;
    }
    if (a->n_large == a->cap_large) {
        int cap = a->cap_large ? 2 * a->cap_large : 16;
        pf_cuda_block **nl = realloc(a->large, (size_t)cap * sizeof *nl);
        if (!nl) { /* cannot cache it: give it back to the device */
            (void)cudaStreamSynchronize(a->stream);
            (void)pf_device_free(a, b);
            (void)cudaGetLastError();
            return;
        }
        a->large = nl;
        a->cap_large = cap;
    }
    int i = a->n_large;
    while (i > 0 && a->large[i - 1]->size > b->size) {
        a->large[i] = a->large[i - 1];
        i--;
    }
    a->large[i] = b;
    a->n_large++;
    a->cached += b->size;
}

void pf_cuda_allocator_destroy(pf_cuda_allocator *a) {
    (void)pf_cuda_trim(a);
    free(a->large);
    a->large = NULL;
    a->n_large = a->cap_large = 0;
}
