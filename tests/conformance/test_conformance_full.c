/*
 * conformance_full: the op lists of the real models, replayed on every backend.
 *
 * The released miniFLUX and SD3 DiTs (at 384p and 768p, in three pipeline token layouts,
 * with f32, bf16-weight and all-bf16 dtypes), the causal VAE (when this build has it),
 * T5-XXL, CLIP-L and CLIP-bigG are built at full size on the meta backend, which
 * allocates nothing; every graph they plan passes through the planner's observer, and
 * each distinct node signature (op, dtypes, shapes, operand strides, params) becomes a
 * conformance case. Each case then runs on every backend of the build against the CPU
 * reference. Cases beyond a side's time budget (at its measured GFLOP/s), its largest
 * buffer or the memory budget are reported skipped-by-size and their reduced twins run
 * instead. Ends with the support matrix.
 *
 *   test_conformance_full [--backend NAME] [--filter TEXT] [--origin TEXT] [--budget SECONDS]
 *                         [--max-mib N] [--reduce N] [--list]
 * Label conformance_full (not CI: about an hour on lavapipe). docs/conformance.md.
 */
#include "conformance.h"
#include "pf_dit.h"
#include "pf_test.h"
#include "pf_text.h"
#include "pf_vae.h"

#define T5_TOKENS 128
#define CLIP_TOKENS 77
#define BATCH 2 /* classifier-free guidance */

typedef struct export_state {
    pf_conf_list list;
    char origin[48];
    int graphs, failed;
} export_state;

static void observe(pf_graph *g, void *user) {
    export_state *s = user;
    s->graphs++;
    pf_conf_export_graph(&s->list, g, s->origin, &s->failed);
}

/* The clip list of unit k at stage s, as the pipeline builds it (see apps/bench_dit.c). */
static int layout_clips(int unit, int stage, int Hl, int Wl, int t[4], int h[4], int w[4]) {
    int n = 0;
    const int qh = Hl / 4, qw = Wl / 4, hh = Hl / 2, hw = Wl / 2;
    const int sh = stage == 0 ? qh : stage == 1 ? hh : Hl, sw = stage == 0 ? qw : stage == 1 ? hw : Wl;
    if (unit > 0) {
        int quarter = stage == 2 ? unit - 2 : unit - 1;
        if (quarter > 0) t[n] = quarter, h[n] = qh, w[n] = qw, n++;
        if (stage == 2 && unit >= 2) t[n] = 1, h[n] = hh, w[n] = hw, n++;
        t[n] = 1, h[n] = sh, w[n] = sw, n++;
    }
    t[n] = 1, h[n] = sh, w[n] = sw, n++;
    return n;
}

static pf_status export_dit(export_state *s, pf_backend *meta, pf_dit_variant v, pf_dtype wdt, pf_dtype act) {
    pf_dit_config cfg;
    pf_dit_config_released(v, &cfg);
    pf_dit *dit = NULL;
    pf_pool *pool = NULL;
    PF_TRY(pf_dit_create_random(&cfg, meta, wdt, 1, &dit));
    pf_status rc = pf_dit_set_act_dtype(dit, act);
    if (rc == PF_OK) rc = pf_pool_create(meta, 0, &pool);
    static const int layouts[][2] = {{0, 0}, {1, 1}, {3, 2}}; /* (unit, stage) */
    static const char *const res_name[2] = {"384p", "768p"};
    for (int r = 0; r < 2 && rc == PF_OK; r++) {
        int Hl = r ? 96 : 48, Wl = r ? 160 : 80;
        for (size_t k = 0; k < PF_ARRAY_LEN(layouts) && rc == PF_OK; k++) {
            int t[4], h[4], w[4];
            int n = layout_clips(layouts[k][0], layouts[k][1], Hl, Wl, t, h, w);
            pf_dit_inputs in = {.batch = BATCH, .n_clips = n};
            float ts[BATCH] = {500.0f, 500.0f};
            int32_t mask[BATCH * T5_TOKENS];
            for (int b = 0; b < BATCH; b++)
                for (int j = 0; j < T5_TOKENS; j++) mask[b * T5_TOKENS + j] = j < (b ? 40 : 24);
            in.timestep = ts;
            in.text_mask = mask;
            for (int i = 0; i < n && rc == PF_OK; i++) {
                int64_t ne[5] = {BATCH, cfg.in_channels, t[i], h[i], w[i]};
                in.clips[i] = pf_pool_tensor(pool, PF_F32, 5, ne, "clip");
                if (!in.clips[i]) rc = PF_ERR_OOM;
            }
            int64_t tne[3] = {BATCH, T5_TOKENS, cfg.text_dim}, pne[2] = {BATCH, cfg.pooled_dim};
            int64_t vne[5] = {BATCH, cfg.in_channels, t[n - 1], h[n - 1], w[n - 1]};
            in.text = pf_pool_tensor(pool, PF_F32, 3, tne, "text");
            in.pooled = pf_pool_tensor(pool, PF_F32, 2, pne, "pooled");
            pf_tensor *vel = pf_pool_tensor(pool, PF_F32, 5, vne, "velocity");
            if (!in.text || !in.pooled || !vel) rc = PF_ERR_OOM;
            snprintf(s->origin, sizeof s->origin, "%s %s u%ds%d %s/%s", v == PF_DIT_FLUX ? "miniflux" : "sd3", res_name[r],
                     layouts[k][0], layouts[k][1], pf_dtype_name(wdt), pf_dtype_name(act));
            pf_dit_stats st;
            if (rc == PF_OK) rc = pf_dit_plan(dit, &in, vel, &st);
        }
    }
    pf_pool_free(pool);
    pf_dit_free(dit);
    return rc;
}

/* Text encoders on the meta backend plan and then fail to compute: the plan is all we need. */
static pf_status meta_call(pf_status rc) {
    if (rc == PF_ERR_UNSUPPORTED && strstr(pf_last_error(), "meta backend")) return PF_OK;
    return rc;
}

static pf_status export_text(export_state *s, pf_backend *meta, pf_dtype wdt) {
    int32_t ids[BATCH * T5_TOKENS], mask[BATCH * T5_TOKENS];
    for (int i = 0; i < BATCH * T5_TOKENS; i++) {
        ids[i] = 1 + (i * 37) % 1000;
        mask[i] = (i % T5_TOKENS) < 30;
    }
    float *hidden = malloc((size_t)BATCH * T5_TOKENS * 4096 * sizeof(float));
    float *pooled = malloc((size_t)BATCH * 4096 * sizeof(float)), *proj = malloc((size_t)BATCH * 4096 * sizeof(float));
    if (!hidden || !pooled || !proj) {
        free(hidden), free(pooled), free(proj);
        return pf_error(PF_ERR_OOM, "out of memory");
    }
    pf_status rc = PF_OK;
    pf_t5_config tc;
    pf_t5_config_xxl(&tc);
    pf_t5 *t5 = NULL;
    snprintf(s->origin, sizeof s->origin, "t5-xxl %s", pf_dtype_name(wdt));
    rc = pf_t5_create_random(&tc, meta, wdt, 1, &t5);
    if (rc == PF_OK) rc = meta_call(pf_t5_encode(t5, ids, mask, BATCH, T5_TOKENS, hidden));
    pf_t5_free(t5);
    for (int k = 0; k < 3 && rc == PF_OK; k++) {
        pf_clip_config cc;
        if (k == 2) pf_clip_config_bigg(&cc);
        else pf_clip_config_l(&cc, k == 1);
        pf_clip *clip = NULL;
        snprintf(s->origin, sizeof s->origin, "clip-%s %s", k == 0 ? "l" : k == 1 ? "l-proj" : "bigg", pf_dtype_name(wdt));
        rc = pf_clip_create_random(&cc, meta, wdt, 1, &clip);
        if (rc == PF_OK)
            rc = meta_call(pf_clip_encode(clip, ids, BATCH, CLIP_TOKENS, hidden, pooled, cc.projection_dim ? proj : NULL));
        pf_clip_free(clip);
    }
    free(hidden), free(pooled), free(proj);
    return rc;
}

/* The causal VAE: decode (official chunked + tiled, and untiled) and encode of an image,
 * at 384p and 768p. */
static pf_status export_vae(export_state *s, pf_backend *meta, pf_dtype dt) {
    pf_vae_config cfg;
    pf_vae_config_released(&cfg);
    pf_vae *vae = NULL;
    PF_TRY(pf_vae_create_random(&cfg, meta, dt, 1, &vae));
    pf_status rc = PF_OK;
    for (int r = 0; r < 2 && rc == PF_OK; r++) {
        int h = r ? 96 : 48, w = r ? 160 : 80;
        for (int tiled = 0; tiled < 2 && rc == PF_OK; tiled++) {
            pf_vae_opts o;
            pf_vae_opts_default(&o);
            o.tiling = tiled != 0;
            pf_vae_mem m;
            snprintf(s->origin, sizeof s->origin, "vae decode %s%s %s", r ? "768p" : "384p", tiled ? " tiled" : "",
                     pf_dtype_name(dt));
            rc = pf_vae_decode_predict_mem(vae, 3, h, w, &o, &m);
            if (rc == PF_OK) {
                pf_vae_encode_opts_default(&o);
                o.tiling = tiled != 0;
                snprintf(s->origin, sizeof s->origin, "vae encode %s%s %s", r ? "768p" : "384p", tiled ? " tiled" : "",
                         pf_dtype_name(dt));
                rc = pf_vae_encode_predict_mem(vae, 1, 8 * h, 8 * w, &o, &m);
            }
        }
    }
    pf_vae_free(vae);
    return rc;
}

static double arg_num(const char *s, const char *what) {
    char *end;
    double v = strtod(s, &end);
    if (*end || v < 0) {
        fprintf(stderr, "%s: bad number '%s'\n", what, s);
        return -1;
    }
    return v;
}

int main(int argc, char **argv) {
    const char *only = NULL, *origin = NULL;
    bool list_only = false;
    pf_conf_sweep_opts o = {.seconds = 5.0, .max_bytes = 512.0 * 1024 * 1024, .reduce_cap = 32};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list")) list_only = true;
        else if (!v) {
            fprintf(stderr, "usage: %s [--backend NAME] [--filter TEXT] [--origin TEXT] [--budget SECONDS] [--max-mib N] "
                            "[--reduce N] [--list]\n", argv[0]);
            return 2;
        } else if (!strcmp(a, "--backend")) only = v, i++;
        else if (!strcmp(a, "--filter")) o.filter = v, i++;
        else if (!strcmp(a, "--origin")) origin = v, i++;
        else if (!strcmp(a, "--budget")) o.seconds = arg_num(v, a), i++;
        else if (!strcmp(a, "--max-mib")) o.max_bytes = arg_num(v, a) * 1024 * 1024, i++;
        else if (!strcmp(a, "--reduce")) o.reduce_cap = (int64_t)arg_num(v, a), i++;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
        if (o.seconds < 0 || o.max_bytes < 0 || o.reduce_cap < 0) return 2;
    }

    pf_backend *meta;
    if (pf_backend_meta_create(&meta) != PF_OK) return 1;
    export_state s = {0};
    pf_graph_set_observer(observe, &s);
    double t0 = pf_time_now();
    pf_status rc = PF_OK;
    static const struct {
        pf_dtype w, act;
    } dts[] = {{PF_F32, PF_F32}, {PF_BF16, PF_F32}, {PF_BF16, PF_BF16}};
    for (int v = 0; v < 2 && rc == PF_OK; v++)
        for (size_t d = 0; d < PF_ARRAY_LEN(dts) && rc == PF_OK; d++)
            rc = export_dit(&s, meta, v ? PF_DIT_MMDIT : PF_DIT_FLUX, dts[d].w, dts[d].act);
    for (int d = 0; d < 2 && rc == PF_OK; d++) rc = export_text(&s, meta, d ? PF_BF16 : PF_F32);
    for (int d = 0; d < 2 && rc == PF_OK; d++) rc = export_vae(&s, meta, d ? PF_BF16 : PF_F32);
    pf_graph_set_observer(NULL, NULL);
    pf_backend_free(meta);
    if (rc != PF_OK) {
        fprintf(stderr, "building the model graphs (%s): %s\n", s.origin, pf_last_error());
        pf_conf_list_free(&s.list);
        return 1;
    }
    int nodes = 0;
    for (int i = 0; i < s.list.n; i++) nodes += s.list.cases[i].count;
    if (origin) { /* only the cases first seen in matching graphs ("vae", "sd3 768p", ...) */
        int k = 0;
        for (int i = 0; i < s.list.n; i++)
            if (strstr(s.list.cases[i].origin, origin)) s.list.cases[k++] = s.list.cases[i];
        s.list.n = k;
    }
    printf("exported %d distinct node signatures from %d compute nodes of %d planned graphs in %.1f s "
           "(%d nodes not expressible as cases)\n",
           s.list.n, nodes, s.graphs, pf_time_now() - t0, s.failed);
    if (list_only) {
        for (int i = 0; i < s.list.n; i++)
            printf("%5dx %-28s %s\n", s.list.cases[i].count, s.list.cases[i].origin, s.list.cases[i].name);
        pf_conf_list_free(&s.list);
        return s.failed ? 1 : 0;
    }
    const char *names[8];
    int nb = 0;
    for (int b = 0; b < pf_backend_count() && nb < 8; b++)
        if (!only || !strcmp(only, pf_backend_name_at(b))) names[nb++] = pf_backend_name_at(b);
    int failures = pf_conf_sweep(&s.list, names, nb, &o, stdout);
    pf_conf_list_free(&s.list);
    if (failures < 0) {
        printf("no backend available\n");
        return 77;
    }
    return failures || s.failed ? 1 : 0;
}
