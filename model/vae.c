/*
 * CausalVideoVAE: loading, and the decode / encode drivers.
 *
 * A call splits the work as the official code does: spatial tiles (tiled_decode /
 * tiled_encode), each run in temporal chunks (chunk_decode / chunk_encode) or
 * whole. One graph is built per (chunk mode, chunk length, tile size) and
 * replayed; all of a call's graphs share one arena, so the device holds one
 * chunk's activations of one tile at a time, plus the causal conv caches (sized
 * for the largest tile, rewritten inside the graphs with pf_output_into). Tiles
 * come back to the host, where they are blended and cropped into the output.
 */
#include "vae_internal.h"

#include <limits.h>

/* ---------------------------------------------------------------- options */

void pf_vae_opts_default(pf_vae_opts *o) {
    memset(o, 0, sizeof *o);
    o->temporal_chunk = true;
    o->window = 1;
    o->tiling = true;
    o->tile_sample_min_size = 256;
}

void pf_vae_encode_opts_default(pf_vae_opts *o) {
    memset(o, 0, sizeof *o);
    o->temporal_chunk = false;
    o->window = 16;
    o->tiling = true;
    o->tile_sample_min_size = 256;
}

void pf_vae_posterior_sample(const float *mean, const float *logvar, const float *noise, size_t n, float *out) {
    /* DiagonalGaussianDistribution.sample: std = exp(0.5 * logvar); mean + std * noise */
    for (size_t i = 0; i < n; i++) {
        float s = expf(0.5f * logvar[i]);
        float d = s * noise[i];
        out[i] = mean[i] + d;
    }
}

/* ---------------------------------------------------------------- lifetime */

static int vae_pow2_count(const bool *flags) {
    int f = 1;
    for (int i = 0; i < VAE_BLOCKS; i++)
        if (flags[i]) f *= 2;
    return f;
}

static pf_status vae_new(const pf_vae_config *cfg, pf_backend *be, pf_dtype dtype, int downsample_scale, pf_vae **out) {
    *out = NULL;
    if (!be) return pf_error(PF_ERR_INVALID_ARG, "VAE: no backend");
    if (dtype != PF_F32 && dtype != PF_BF16)
        return pf_error(PF_ERR_UNSUPPORTED, "VAE: dtype %s is not supported (f32 or bf16)", pf_dtype_name(dtype));
    pf_vae *v = pf_calloc(1, sizeof *v, "VAE");
    if (!v) return PF_ERR_OOM;
    v->cfg = *cfg;
    v->cfg.n_params = vae_config_params(cfg);
    v->downsample_scale = downsample_scale;
    v->be = be;
    v->dtype = dtype;
    v->virtual_buffer.backend = be;
    v->sf_enc = vae_pow2_count(cfg->enc_spatial_down);
    v->tf_enc = vae_pow2_count(cfg->enc_temporal_down);
    v->sf_dec = vae_pow2_count(cfg->dec_spatial_up);
    v->tf_dec = vae_pow2_count(cfg->dec_temporal_up);
    *out = v;
    return PF_OK;
}

static void vae_free_blocks(vae_block *b, int n) {
    for (int i = 0; i < n; i++) free(b[i].resnets);
}

void pf_vae_free(pf_vae *vae) {
    if (!vae) return;
    vae_free_blocks(vae->enc.down, VAE_BLOCKS);
    vae_free_blocks(vae->dec.up, VAE_BLOCKS);
    pf_pool_free(vae->pool);
    free(vae);
}

const pf_vae_config *pf_vae_get_config(const pf_vae *vae) { return &vae->cfg; }

/* A pool sized to the weights (the default 256 MiB chunk would be mostly empty for small models). */
static pf_status vae_pool_create(pf_vae *v, pf_backend *be) {
    return pf_pool_create_for(be, (size_t)v->cfg.n_params * pf_dtype_size(v->dtype), vae_config_tensors(&v->cfg),
                              &v->pool);
}

pf_status pf_vae_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_vae **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_vae_load: NULL output");
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "pf_vae_load: NULL folder");
    char *cfg_path = pf_path_join(dir, "config.json");
    if (!cfg_path) return PF_ERR_OOM;
    pf_vae_config cfg;
    int ds = 8;
    pf_status rc = vae_config_load(cfg_path, &cfg, &ds);
    free(cfg_path);
    if (rc != PF_OK) return pf_error_wrap(rc, "loading the VAE from %s", dir);
    pf_weights *w = NULL;
    rc = pf_weights_open_dir(dir, &w);
    if (rc != PF_OK) return pf_error_wrap(rc, "loading the VAE from %s", dir);
    pf_vae *v = NULL;
    rc = vae_new(&cfg, be, dtype, ds, &v);
    if (rc == PF_OK) rc = vae_pool_create(v, be);
    if (rc == PF_OK) {
        pf_loader L;
        pf_loader_init(&L, w, v->pool, dtype, "VAE");
        rc = vae_weights_build(v, VAE_W_LOAD, &L, 0);
        pf_status lrc = pf_loader_finish(&L);
        if (rc == PF_OK) rc = lrc;
    }
    pf_weights_close(w);
    if (rc != PF_OK) {
        pf_vae_free(v);
        return rc;
    }
    *out = v;
    return PF_OK;
}

pf_status pf_vae_create_random(const pf_vae_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_vae **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "VAE: NULL output");
    *out = NULL;
    if (!cfg) return pf_error(PF_ERR_INVALID_ARG, "VAE: NULL config");
    PF_TRY(vae_config_check(cfg, "VAE config"));
    pf_vae *v = NULL;
    PF_TRY(vae_new(cfg, be, dtype, 8, &v));
    pf_status rc = vae_pool_create(v, be);
    if (rc == PF_OK) rc = vae_weights_build(v, VAE_W_RANDOM, NULL, seed);
    if (rc != PF_OK) {
        pf_vae_free(v);
        return rc;
    }
    *out = v;
    return PF_OK;
}

static size_t vae_weight_bytes(const pf_vae *v) { return v->pool ? pf_pool_bytes(v->pool) : 0; }

/* ---------------------------------------------------------------- one call's graphs */

typedef struct vae_graph {
    vae_tmode mode;
    int64_t t, h, w;   /* input chunk: frames (latent or video) and tile size */
    pf_graph *g;
    pf_tensor *in, *out;
    double flops;
} vae_graph;

typedef struct vae_run {
    pf_vae *vae;
    bool encode, dry;
    pf_arena *arena; /* NULL when dry */
    vae_caches caches;
    vae_graph *graphs;
    int n_graphs, cap_graphs;
    int n_runs;
    double flops; /* of the chunks run (or, dry, planned) */
    size_t dry_peak; /* largest planned graph (dry) */
    pf_backend_info info;
} vae_run;

static pf_status vae_run_init(vae_run *R, pf_vae *vae, bool encode, bool dry) {
    memset(R, 0, sizeof *R);
    R->vae = vae;
    R->encode = encode;
    R->dry = dry;
    R->caches.vae = vae;
    pf_backend_get_info(vae->be, &R->info);
    if (dry) return PF_OK;
    PF_TRY(pf_arena_create(vae->be, &R->arena));
    /* caches are large at full resolution and few: small shared chunks */
    return pf_pool_create(vae->be, (size_t)16 << 20, &R->caches.pool);
}

static void vae_run_free(vae_run *R) {
    for (int i = 0; i < R->n_graphs; i++) pf_graph_free(R->graphs[i].g);
    free(R->graphs);
    vae_caches_free(&R->caches);
    pf_arena_free(R->arena);
    memset(R, 0, sizeof *R);
}

static const char *vae_mode_name(vae_tmode m) {
    return m == VAE_T_FULL ? "full" : m == VAE_T_FIRST ? "first" : "next";
}

/* The graph for one chunk shape, built and planned on first use. */
static pf_status vae_run_graph(vae_run *R, vae_tmode mode, int64_t t, int64_t h, int64_t w, vae_graph **out) {
    for (int i = 0; i < R->n_graphs; i++) {
        vae_graph *e = &R->graphs[i];
        if (e->mode == mode && e->t == t && e->h == h && e->w == w) {
            *out = e;
            return PF_OK;
        }
    }
    if (R->n_graphs == R->cap_graphs) {
        int cap = R->cap_graphs ? 2 * R->cap_graphs : 8;
        vae_graph *ng = pf_realloc(R->graphs, (size_t)cap * sizeof *ng, "VAE graphs");
        if (!ng) return PF_ERR_OOM;
        R->graphs = ng;
        R->cap_graphs = cap;
    }
    pf_vae *vae = R->vae;
    char name[96];
    snprintf(name, sizeof name, "vae_%s_%s_t%lld_%lldx%lld", R->encode ? "encode" : "decode", vae_mode_name(mode),
             (long long)t, (long long)h, (long long)w);
    pf_graph *g = pf_graph_new(name);
    if (!g) return PF_ERR_OOM;
    int64_t ne[5] = {1, R->encode ? vae->cfg.in_channels : vae->cfg.latent_channels, t, h, w};
    /* The encoder keeps f32 activations whatever the weights: it runs once per i2v image, and
     * bf16 activations through its strided convs cost more accuracy than the 2e-3 NMSE the
     * bf16 path allows (tiled encode measured 2.6e-3). The decoder runs in the weight dtype. */
    pf_dtype adt = R->encode ? PF_F32 : vae->dtype;
    pf_tensor *in = pf_input(g, adt, 5, ne, R->encode ? "in.video" : "in.latent");
    vae_build B = {.g = g, .vae = vae, .mode = mode, .caches = mode == VAE_T_FULL ? NULL : &R->caches, .adt = adt};
    pf_tensor *y = R->encode ? vae_encoder_fwd(&B, in) : vae_decoder_fwd(&B, in);
    pf_output(g, y);
    pf_status rc = B.status;
    if (rc == PF_OK && pf_graph_status(g) != PF_OK)
        rc = pf_error(pf_graph_status(g), "VAE %s: %s", R->encode ? "encode" : "decode", pf_graph_error(g));
    pf_plan_stats st;
    if (rc == PF_OK) {
        if (R->dry) {
            rc = pf_graph_plan_dry(g, R->info.max_buffer_size, R->info.alignment, &st);
            if (rc == PF_OK) R->dry_peak = PF_MAX(R->dry_peak, st.peak_bytes);
        } else {
            rc = pf_graph_plan(g, R->arena, &st);
        }
    }
    if (rc != PF_OK) {
        pf_graph_free(g);
        return rc;
    }
    vae_graph *e = &R->graphs[R->n_graphs++];
    *e = (vae_graph){.mode = mode, .t = t, .h = h, .w = w, .g = g, .in = in, .out = y};
    e->flops = pf_graph_flops(g);
    *out = e;
    return PF_OK;
}

static void vae_run_record(vae_run *R) {
    pf_vae *v = R->vae;
    v->last_arena_bytes = R->arena ? pf_arena_size(R->arena) : R->dry_peak;
    v->last_cache_bytes = R->caches.bytes;
    v->last_graphs = R->n_graphs;
    v->last_runs = R->n_runs;
    v->last_flops = R->flops;
}

/* Copy frames [t0, t0+nt) of a tile [t0.., y0.., x0..] out of a host [C, T, H, W] array. */
static void vae_gather(const float *src, int64_t C, int64_t T, int64_t H, int64_t W, int64_t t0, int64_t nt, int64_t y0,
                       int64_t ny, int64_t x0, int64_t nx, float *dst) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t t = 0; t < nt; t++)
            for (int64_t y = 0; y < ny; y++)
                memcpy(dst + ((c * nt + t) * ny + y) * nx, src + ((c * T + t0 + t) * H + y0 + y) * W + x0,
                       (size_t)nx * sizeof(float));
}

/* Place a chunk [C, nt, H, W] at frame t0 of a tile [C, T, H, W]. */
static void vae_scatter_frames(const float *chunk, int64_t C, int64_t nt, int64_t HW, float *tile, int64_t T,
                               int64_t t0) {
    for (int64_t c = 0; c < C; c++)
        memcpy(tile + (c * T + t0) * HW, chunk + c * nt * HW, (size_t)(nt * HW) * sizeof(float));
}

/* ---------------------------------------------------------------- the tiled, chunked driver */

typedef struct vae_job {
    bool encode;
    const float *src;      /* [Cin, T, H, W] host input */
    int64_t cin, T, H, W;  /* input */
    int64_t cout, Tout;    /* output channels and frames */
    float *dst;            /* [cout, Tout, rows.total, cols.total] host output (NULL: plan only) */
    vae_tiling tiling;
    vae_chunks chunks;
    const pf_vae_opts *o;
    size_t host_bytes;
} vae_job;

static vae_tmode vae_chunk_mode(const vae_job *J, int c) {
    return !J->o->temporal_chunk ? VAE_T_FULL : c == 0 ? VAE_T_FIRST : VAE_T_NEXT;
}

static int64_t vae_chunk_frames(const pf_vae *vae, const vae_job *J, int c) {
    vae_tmode m = vae_chunk_mode(J, c);
    return J->encode ? vae_encoder_frames(vae, J->chunks.len[c], m) : vae_decoder_frames(vae, J->chunks.len[c], m);
}

/* Run (or, dry, only plan) every tile and chunk of a job. */
static pf_status vae_job_run(pf_vae *vae, vae_job *J, bool dry) {
    const vae_tiling *tl = &J->tiling;
    vae_run R;
    PF_TRY(vae_run_init(&R, vae, J->encode, dry));
    int64_t max_th = 0, max_tw = 0, max_tl_h = 0, max_tl_w = 0, max_ct = 0, max_co = 0;
    for (int i = 0; i < tl->rows.n; i++) {
        max_th = PF_MAX(max_th, tl->rows.out_len[i]);
        max_tl_h = PF_MAX(max_tl_h, tl->rows.len[i]);
    }
    for (int j = 0; j < tl->cols.n; j++) {
        max_tw = PF_MAX(max_tw, tl->cols.out_len[j]);
        max_tl_w = PF_MAX(max_tl_w, tl->cols.len[j]);
    }
    for (int c = 0; c < J->chunks.n; c++) {
        max_ct = PF_MAX(max_ct, J->chunks.len[c]);
        max_co = PF_MAX(max_co, vae_chunk_frames(vae, J, c));
    }
    size_t n_in = (size_t)(J->cin * max_ct * max_tl_h * max_tl_w);
    size_t n_chunk = (size_t)(J->cout * max_co * max_th * max_tw);
    /* one tile: its frames are the output itself */
    size_t n_tile = tl->tiled ? (size_t)(J->cout * J->Tout * max_th * max_tw) : 0;
    J->host_bytes = (n_in + n_chunk + n_tile) * sizeof(float);

    float *hin = NULL, *hchunk = NULL, *htile = NULL;
    vae_blender bl;
    memset(&bl, 0, sizeof bl);
    pf_status rc = PF_OK;
    if (!dry) {
        hin = pf_malloc(n_in * sizeof(float), "VAE chunk input");
        hchunk = pf_malloc(n_chunk * sizeof(float), "VAE chunk output");
        htile = tl->tiled ? pf_malloc(n_tile * sizeof(float), "VAE tile") : J->dst;
        if (!hin || !hchunk || !htile) rc = PF_ERR_OOM;
        if (rc == PF_OK) rc = vae_blender_init(&bl, tl, J->cout * J->Tout);
        J->host_bytes += bl.host_bytes;
    } else if (tl->tiled) {
        /* the strips the blender would keep */
        int64_t sr = PF_MIN(tl->blend, max_th), sc = PF_MIN(tl->blend, max_tw), wsum = 0;
        for (int j = 0; j < tl->cols.n; j++) wsum += tl->cols.out_len[j];
        J->host_bytes += (size_t)(J->cout * J->Tout * (sr * wsum + sc * max_th)) * sizeof(float);
    }

    int done = 0, total = tl->rows.n * tl->cols.n * J->chunks.n;
    for (int i = 0; i < tl->rows.n && rc == PF_OK; i++)
        for (int j = 0; j < tl->cols.n && rc == PF_OK; j++) {
            int64_t y0 = tl->rows.start[i], ny = tl->rows.len[i], x0 = tl->cols.start[j], nx = tl->cols.len[j];
            int64_t TH = tl->rows.out_len[i], TW = tl->cols.out_len[j], fo = 0;
            for (int c = 0; c < J->chunks.n && rc == PF_OK; c++) {
                vae_graph *G = NULL;
                int64_t nt = J->chunks.len[c], no = vae_chunk_frames(vae, J, c);
                rc = vae_run_graph(&R, vae_chunk_mode(J, c), nt, ny, nx, &G);
                if (rc != PF_OK) break;
                R.n_runs++;
                R.flops += G->flops;
                if (dry) continue;
                if (G->out->ne[1] != J->cout || G->out->ne[2] != no || G->out->ne[3] != TH || G->out->ne[4] != TW) {
                    char b[96];
                    rc = pf_error(PF_ERR_INTERNAL, "VAE: graph %s gives %s, expected [1, %lld, %lld, %lld, %lld]",
                                  pf_graph_name(G->g), pf_shape_str(G->out, b, sizeof b), (long long)J->cout,
                                  (long long)no, (long long)TH, (long long)TW);
                    break;
                }
                vae_gather(J->src, J->cin, J->T, J->H, J->W, J->chunks.start[c], nt, y0, ny, x0, nx, hin);
                rc = pf_tensor_set_as(G->in, hin, PF_F32, (size_t)pf_nelem(G->in));
                if (rc == PF_OK) rc = pf_graph_compute(G->g);
                if (rc == PF_OK) rc = pf_tensor_get_as(G->out, hchunk, PF_F32, (size_t)pf_nelem(G->out));
                if (rc != PF_OK) break;
                vae_scatter_frames(hchunk, J->cout, no, TH * TW, htile, J->Tout, fo);
                fo += no;
                done++;
                if (J->o->progress && !J->o->progress(J->o->progress_user, done, total))
                    rc = pf_error(PF_ERR_CANCELLED, "VAE %s cancelled after %d of %d chunks",
                                  J->encode ? "encode" : "decode", done, total);
            }
            if (rc == PF_OK && !dry && tl->tiled) vae_blender_put(&bl, i, j, htile, J->dst);
        }
    vae_run_record(&R);
    if (!dry) vae->last_host_bytes = J->host_bytes;
    vae_blender_free(&bl);
    free(hin);
    free(hchunk);
    if (tl->tiled) free(htile);
    vae_run_free(&R);
    return rc;
}

static void vae_job_free(vae_job *J) {
    vae_tiling_free(&J->tiling);
    vae_chunks_free(&J->chunks);
}

/* Check options and sizes of a decode and lay out its tiles and chunks. */
static pf_status vae_decode_job(pf_vae *vae, const float *latent, int T, int h, int w, const pf_vae_opts *o,
                                vae_job *J) {
    memset(J, 0, sizeof *J);
    if (!vae) return pf_error(PF_ERR_INVALID_ARG, "VAE decode: NULL model");
    if (T < 1 || h < 1 || w < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE decode: latent size %d frames x %d x %d (each must be >= 1)", T, h, w);
    if (o->temporal_chunk && o->window < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE decode: window must be >= 1 latent frame (got %d)", o->window);
    if (o->tiling && o->tile_sample_min_size < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE decode: tile size must be positive (got %d px)",
                        o->tile_sample_min_size);
    int64_t Tout = vae_decoder_frames(vae, T, VAE_T_FULL);
    int64_t H = (int64_t)h * vae->sf_dec, W = (int64_t)w * vae->sf_dec;
    if ((double)vae->cfg.out_channels * (double)Tout * (double)H * (double)W > (double)(INT64_MAX / 8))
        return pf_error(PF_ERR_INVALID_ARG, "VAE decode: output of %lld frames of %lld x %lld is too large",
                        (long long)Tout, (long long)W, (long long)H);
    J->encode = false;
    J->src = latent;
    J->cin = vae->cfg.latent_channels;
    J->T = T;
    J->H = h;
    J->W = w;
    J->cout = vae->cfg.out_channels;
    J->Tout = Tout;
    J->o = o;
    pf_status rc = vae_tiling_decode(vae, h, w, o, &J->tiling);
    if (rc == PF_OK) rc = vae_chunks_make(T, o->temporal_chunk, o->window, &J->chunks);
    if (rc == PF_OK) {
        int64_t sum = 0; /* chunk_decode: 1 + 8 window frames, then 8 per latent */
        for (int c = 0; c < J->chunks.n; c++) sum += vae_chunk_frames(vae, J, c);
        if (sum != Tout)
            rc = pf_error(PF_ERR_INTERNAL, "VAE decode: chunks give %lld frames, not %lld", (long long)sum,
                          (long long)Tout);
    }
    if (rc == PF_OK && (J->tiling.rows.total != H || J->tiling.cols.total != W))
        rc = pf_error(PF_ERR_INVALID_ARG,
                      "VAE decode: tile size %d px makes a %lld x %lld video from a %d x %d latent, not %lld x %lld "
                      "(use a multiple of %d)",
                      o->tile_sample_min_size, (long long)J->tiling.cols.total, (long long)J->tiling.rows.total, w, h,
                      (long long)W, (long long)H, 4 * vae->downsample_scale);
    if (rc != PF_OK) vae_job_free(J);
    return rc;
}

static pf_status vae_encode_job(pf_vae *vae, const float *video, int T, int H, int W, const pf_vae_opts *o,
                                vae_job *J) {
    memset(J, 0, sizeof *J);
    if (!vae) return pf_error(PF_ERR_INVALID_ARG, "VAE encode: NULL model");
    int tf = vae->tf_enc, sf = vae->sf_enc;
    if (T < 1 || H < 1 || W < 1 || (T - 1) % tf || H % sf || W % sf)
        return pf_error(PF_ERR_INVALID_ARG,
                        "VAE encode: video of %d frames of %d x %d (frames must be 1 + %d k, width and height "
                        "multiples of %d)",
                        T, W, H, tf, sf);
    if (o->temporal_chunk && o->window < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE encode: window must be >= 1 frame (got %d)", o->window);
    if (o->tiling && o->tile_sample_min_size < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE encode: tile size must be positive (got %d px)",
                        o->tile_sample_min_size);
    int64_t Tl = 1 + (T - 1) / tf;
    J->encode = true;
    J->src = video;
    J->cin = vae->cfg.in_channels;
    J->T = T;
    J->H = H;
    J->W = W;
    J->cout = 2 * vae->cfg.latent_channels;
    J->Tout = Tl;
    J->o = o;
    pf_status rc = vae_tiling_encode(vae, H, W, o, &J->tiling);
    if (rc == PF_OK) rc = vae_chunks_make(T, o->temporal_chunk, o->window, &J->chunks);
    if (rc == PF_OK && (J->tiling.rows.total != H / sf || J->tiling.cols.total != W / sf))
        rc = pf_error(PF_ERR_INVALID_ARG,
                      "VAE encode: tile size %d px makes a %lld x %lld latent from %d x %d pixels, not %d x %d (use a "
                      "multiple of %d)",
                      o->tile_sample_min_size, (long long)J->tiling.cols.total, (long long)J->tiling.rows.total, W, H,
                      W / sf, H / sf, 4 * vae->downsample_scale);
    if (rc == PF_OK) {
        int64_t sum = 0;
        for (int c = 0; c < J->chunks.n; c++) sum += vae_chunk_frames(vae, J, c);
        if (sum != Tl)
            rc = pf_error(PF_ERR_INVALID_ARG,
                          "VAE encode: chunks of %d frames give %lld latent frames for %d frames, not %lld (use a "
                          "multiple of %d)",
                          o->window, (long long)sum, T, (long long)Tl, tf);
    }
    if (rc != PF_OK) vae_job_free(J);
    return rc;
}

static pf_status vae_check_runnable(const pf_vae *vae, const char *what) {
    if (vae && pf_backend_is_meta(vae->be))
        return pf_error(PF_ERR_UNSUPPORTED,
                        "VAE %s: the VAE lives on the meta backend (no memory); only predictions work", what);
    return PF_OK;
}

pf_status pf_vae_decode(pf_vae *vae, const float *latent, int T, int h, int w, const pf_vae_opts *opts, float *video) {
    pf_vae_opts def;
    pf_vae_opts_default(&def);
    const pf_vae_opts *o = opts ? opts : &def;
    PF_TRY(vae_check_runnable(vae, "decode"));
    if (!latent || !video) return pf_error(PF_ERR_INVALID_ARG, "VAE decode: NULL latent or video buffer");
    vae_job J;
    PF_TRY(vae_decode_job(vae, latent, T, h, w, o, &J));
    J.dst = video;
    pf_status rc = vae_job_run(vae, &J, false);
    vae_job_free(&J);
    return rc;
}

pf_status pf_vae_encode(pf_vae *vae, const float *video, int T, int H, int W, const pf_vae_opts *opts, float *mean,
                        float *logvar) {
    pf_vae_opts def;
    pf_vae_encode_opts_default(&def);
    const pf_vae_opts *o = opts ? opts : &def;
    PF_TRY(vae_check_runnable(vae, "encode"));
    if (!video || !mean || !logvar) return pf_error(PF_ERR_INVALID_ARG, "VAE encode: NULL video or output buffer");
    vae_job J;
    PF_TRY(vae_encode_job(vae, video, T, H, W, o, &J));
    /* the moments [2L, Tl, h, w] are blended as a whole, then split */
    int64_t L = vae->cfg.latent_channels, n = L * J.Tout * J.tiling.rows.total * J.tiling.cols.total;
    float *moments = pf_malloc((size_t)(2 * n) * sizeof(float), "VAE moments");
    pf_status rc = moments ? PF_OK : PF_ERR_OOM;
    J.dst = moments;
    if (rc == PF_OK) rc = vae_job_run(vae, &J, false);
    if (rc == PF_OK) {
        memcpy(mean, moments, (size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) logvar[i] = fminf(fmaxf(moments[n + i], -30.0f), 20.0f);
    }
    free(moments);
    vae_job_free(&J);
    return rc;
}

/* ---------------------------------------------------------------- memory */

static void vae_fill_mem(const pf_vae *vae, const vae_job *J, pf_vae_mem *mem) {
    mem->arena_bytes = vae->last_arena_bytes;
    mem->cache_bytes = vae->last_cache_bytes;
    mem->weight_bytes = vae_weight_bytes(vae);
    mem->host_bytes = J ? J->host_bytes : vae->last_host_bytes;
    mem->n_graphs = vae->last_graphs;
    mem->n_runs = vae->last_runs;
    mem->flops = vae->last_flops;
}

/* Plan job J dry into *mem (plus extra_host bytes of host buffers) and free it; the figures
 * of the last real call are kept. */
static pf_status vae_predict_job(pf_vae *vae, vae_job *J, size_t extra_host, pf_vae_mem *mem) {
    size_t a = vae->last_arena_bytes, c = vae->last_cache_bytes;
    int n = vae->last_graphs, nr = vae->last_runs;
    double fl = vae->last_flops;
    pf_status rc = vae_job_run(vae, J, true);
    if (rc == PF_OK) {
        vae_fill_mem(vae, J, mem);
        mem->host_bytes += extra_host;
    }
    vae->last_arena_bytes = a;
    vae->last_cache_bytes = c;
    vae->last_graphs = n;
    vae->last_runs = nr;
    vae->last_flops = fl;
    vae_job_free(J);
    return rc;
}

pf_status pf_vae_decode_predict_mem(pf_vae *vae, int T, int h, int w, const pf_vae_opts *opts, pf_vae_mem *mem) {
    pf_vae_opts def;
    pf_vae_opts_default(&def);
    const pf_vae_opts *o = opts ? opts : &def;
    if (!mem) return pf_error(PF_ERR_INVALID_ARG, "VAE predict: NULL output");
    memset(mem, 0, sizeof *mem);
    vae_job J;
    PF_TRY(vae_decode_job(vae, NULL, T, h, w, o, &J));
    return vae_predict_job(vae, &J, 0, mem);
}

pf_status pf_vae_encode_predict_mem(pf_vae *vae, int T, int H, int W, const pf_vae_opts *opts, pf_vae_mem *mem) {
    pf_vae_opts def;
    pf_vae_encode_opts_default(&def);
    const pf_vae_opts *o = opts ? opts : &def;
    if (!mem) return pf_error(PF_ERR_INVALID_ARG, "VAE predict: NULL output");
    memset(mem, 0, sizeof *mem);
    vae_job J;
    PF_TRY(vae_encode_job(vae, NULL, T, H, W, o, &J));
    size_t out_bytes = (size_t)(J.cout * J.Tout * J.tiling.rows.total * J.tiling.cols.total) * sizeof(float);
    return vae_predict_job(vae, &J, out_bytes, mem);
}

pf_status pf_vae_decode_predict(pf_vae *vae, int T, int h, int w, const pf_vae_opts *opts, size_t *peak_bytes) {
    if (!peak_bytes) return pf_error(PF_ERR_INVALID_ARG, "VAE predict: NULL output");
    pf_vae_mem m;
    PF_TRY(pf_vae_decode_predict_mem(vae, T, h, w, opts, &m));
    *peak_bytes = m.arena_bytes + m.cache_bytes;
    return PF_OK;
}

void pf_vae_last_mem(const pf_vae *vae, pf_vae_mem *mem) {
    memset(mem, 0, sizeof *mem);
    if (vae) vae_fill_mem(vae, NULL, mem);
}
