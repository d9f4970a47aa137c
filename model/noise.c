/* Noise sources: the common entry points and the seeded (Philox) source. */
#include "noise_impl.h"
#include "pf_rng.h"

#include <math.h>

enum { PF_STREAM_INITIAL = 0, PF_STREAM_POSTERIOR = 1, PF_STREAM_BLOCK0 = 2 };

static pf_status pf_noise_check_shape(const int64_t shape[5], int64_t *n, const char *what) {
    int64_t total = 1;
    for (int i = 0; i < 5; i++) {
        if (shape[i] <= 0 || shape[i] > ((int64_t)1 << 30))
            return pf_error(PF_ERR_INVALID_ARG, "%s noise: bad shape [%lld, %lld, %lld, %lld, %lld]", what,
                            (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3],
                            (long long)shape[4]);
        total *= shape[i];
        if (total > ((int64_t)1 << 40)) return pf_error(PF_ERR_INVALID_ARG, "%s noise: shape too large", what);
    }
    *n = total;
    return PF_OK;
}

pf_status pf_block_noise_transform(float *e, int64_t planes, int64_t H, int64_t W, double gamma) {
    if (H % 2 || W % 2)
        return pf_error(PF_ERR_SHAPE, "block noise: height %lld and width %lld must be even", (long long)H,
                        (long long)W);
    /* c solves (1 + g) c (2 - c) / 4 = g, so that Cov = (1 + g) I - g 11^T. At g = 1/3
     * the radicand is 0 up to rounding: clamp, so c = 1 and blocks sum to zero. */
    double rad = (1.0 - 3.0 * gamma) / (1.0 + gamma);
    if (rad < 0.0) {
        if (rad < -1e-12) return pf_error(PF_ERR_INVALID_ARG, "block noise: gamma %g > 1/3 has no real sample", gamma);
        rad = 0.0;
    }
    double c = 1.0 - sqrt(rad), s = sqrt(1.0 + gamma);
    for (int64_t p = 0; p < planes; p++) {
        float *pl = e + p * H * W;
        for (int64_t h = 0; h < H; h += 2)
            for (int64_t w = 0; w < W; w += 2) {
                float *v[4] = {pl + h * W + w, pl + h * W + w + 1, pl + (h + 1) * W + w, pl + (h + 1) * W + w + 1};
                double m = ((double)*v[0] + *v[1] + *v[2] + *v[3]) * 0.25;
                for (int k = 0; k < 4; k++) *v[k] = (float)(s * ((double)*v[k] - c * m));
            }
    }
    return PF_OK;
}

/* The seeded source draws its four normals per block in the block's own row-major
 * (p, q) order, exactly as the official code lays a MultivariateNormal sample out
 * ('(b c t h w) (p q) -> b c t (h p) (w q)'): normals 4k..4k+3 belong to block k. */
static pf_status pf_seeded_draw(pf_noise *n, pf_draw_kind kind, int index, const int64_t shape[5], float *out) {
    int64_t total = 0;
    PF_TRY(pf_noise_check_shape(shape, &total, kind == PF_DRAW_BLOCK ? "block" : "initial"));
    pf_rng r;
    if (kind != PF_DRAW_BLOCK) {
        pf_rng_init(&r, n->seed, kind == PF_DRAW_INITIAL ? PF_STREAM_INITIAL : PF_STREAM_POSTERIOR);
        pf_rng_normal(&r, out, (size_t)total);
        return PF_OK;
    }
    int64_t H = shape[3], W = shape[4], planes = total / (H * W);
    if (H % 2 || W % 2)
        return pf_error(PF_ERR_SHAPE, "block noise: height %lld and width %lld must be even", (long long)H,
                        (long long)W);
    pf_rng_init(&r, n->seed, PF_STREAM_BLOCK0 + (uint64_t)index);
    float blk[4];
    for (int64_t p = 0; p < planes; p++) {
        float *pl = out + p * H * W;
        for (int64_t h = 0; h < H; h += 2)
            for (int64_t w = 0; w < W; w += 2) {
                pf_rng_normal(&r, blk, 4);
                pl[h * W + w] = blk[0];
                pl[h * W + w + 1] = blk[1];
                pl[(h + 1) * W + w] = blk[2];
                pl[(h + 1) * W + w + 1] = blk[3];
            }
    }
    return pf_block_noise_transform(out, planes, H, W, n->gamma);
}

static void pf_seeded_destroy(pf_noise *n) { free(n); }

pf_status pf_noise_create_seeded(uint64_t seed, double gamma, pf_noise **out) {
    *out = NULL;
    if (!(gamma > 0.0) || gamma > 1.0 / 3.0 + 1e-12)
        return pf_error(PF_ERR_INVALID_ARG, "seeded noise: block-noise gamma %g outside (0, 1/3]", gamma);
    pf_noise *n = pf_calloc(1, sizeof *n, "noise source");
    if (!n) return PF_ERR_OOM;
    n->draw = pf_seeded_draw;
    n->destroy = pf_seeded_destroy;
    n->seed = seed;
    n->gamma = gamma;
    snprintf(n->desc, sizeof n->desc, "seed %llu", (unsigned long long)seed);
    *out = n;
    return PF_OK;
}

void pf_noise_free(pf_noise *n) {
    if (n) n->destroy(n);
}

pf_status pf_noise_initial(pf_noise *n, const int64_t shape[5], float *out) {
    return n->draw(n, PF_DRAW_INITIAL, 0, shape, out);
}

pf_status pf_noise_posterior(pf_noise *n, const int64_t shape[5], float *out) {
    return n->draw(n, PF_DRAW_POSTERIOR, 0, shape, out);
}

pf_status pf_noise_block(pf_noise *n, const int64_t shape[5], float *out) {
    PF_TRY(n->draw(n, PF_DRAW_BLOCK, n->block_draws, shape, out));
    n->block_draws++;
    return PF_OK;
}

int pf_noise_block_draws(const pf_noise *n) { return n->block_draws; }

const char *pf_noise_describe(const pf_noise *n) { return n->desc; }
