#include "pf_threads.h"

#include <pthread.h>
#include <unistd.h>

struct pf_threadpool {
    int n;              /* threads including the caller */
    pthread_t *threads; /* n - 1 workers */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    /* current job */
    pf_range_fn fn;
    void *ctx;
    int64_t total, chunk;
    int n_parts;
    int next_part;      /* next part to hand out */
    int parts_done;
    unsigned long job_id;
    bool quit;
};

int pf_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Take parts of the current job until none are left. Called with mu held. */
static void pf_pool_drain(pf_threadpool *p, int thread) {
    while (p->next_part < p->n_parts) {
        int part = p->next_part++;
        int64_t b = (int64_t)part * p->chunk;
        int64_t e = PF_MIN(p->total, b + p->chunk);
        pf_range_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, b, e, thread);
        pthread_mutex_lock(&p->mu);
        if (++p->parts_done == p->n_parts) pthread_cond_broadcast(&p->done_cv);
    }
}

typedef struct {
    pf_threadpool *p;
    int id;
} pf_worker_arg;

static void *pf_worker(void *arg) {
    pf_worker_arg *wa = arg;
    pf_threadpool *p = wa->p;
    int id = wa->id;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->job_id == seen) pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->quit) break;
        seen = p->job_id;
        pf_pool_drain(p, id);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pf_status pf_threadpool_create(int n_threads, pf_threadpool **out) {
    *out = NULL;
    if (n_threads <= 0) n_threads = pf_cpu_count();
    pf_threadpool *p = calloc(1, sizeof *p);
    if (!p) return pf_error(PF_ERR_OOM, "out of host memory (thread pool)");
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!p->threads) {
            free(p);
            return pf_error(PF_ERR_OOM, "out of host memory (thread pool)");
        }
        for (int i = 0; i < n_threads - 1; i++) {
            pf_worker_arg *wa = malloc(sizeof *wa);
            if (!wa) {
                p->n = i + 1;
                break;
            }
            wa->p = p;
            wa->id = i + 1;
            if (pthread_create(&p->threads[i], NULL, pf_worker, wa) != 0) {
                free(wa);
                p->n = i + 1; /* run with the threads we got */
                break;
            }
        }
    }
    *out = p;
    return PF_OK;
}

void pf_threadpool_free(pf_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n - 1; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

int pf_threadpool_size(const pf_threadpool *p) { return p ? p->n : 1; }

void pf_parallel_for(pf_threadpool *p, int64_t n, int64_t grain, pf_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int threads = p ? p->n : 1;
    int64_t max_parts = PF_CEIL_DIV(n, grain);
    /* a few parts per thread balances uneven rows (masked attention, edges) */
    int64_t parts = PF_MIN(max_parts, (int64_t)threads * 4);
    if (!p || threads == 1 || parts <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    int64_t chunk = PF_CEIL_DIV(n, parts);
    parts = PF_CEIL_DIV(n, chunk);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->total = n;
    p->chunk = chunk;
    p->n_parts = (int)parts;
    p->next_part = 0;
    p->parts_done = 0;
    p->job_id++;
    pthread_cond_broadcast(&p->work_cv);
    pf_pool_drain(p, 0);
    while (p->parts_done < p->n_parts) pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
