#include "pf_palette.h"

#define PF_HIST_BITS 6 /* levels per channel kept by the histogram: 64 */
#define PF_HIST_CELLS (1u << (3 * PF_HIST_BITS))

struct pf_palette_hist {
    uint64_t (*cell)[4]; /* [cells] count, sum r, sum g, sum b */
};

static inline uint32_t cell_of(uint8_t r, uint8_t g, uint8_t b) {
    const int s = 8 - PF_HIST_BITS;
    return ((uint32_t)(r >> s) << (2 * PF_HIST_BITS)) | ((uint32_t)(g >> s) << PF_HIST_BITS) | (uint32_t)(b >> s);
}

pf_status pf_palette_hist_new(pf_palette_hist **out) {
    *out = NULL;
    pf_palette_hist *h = pf_calloc(1, sizeof *h, "palette histogram");
    if (!h) return PF_ERR_OOM;
    h->cell = pf_calloc(PF_HIST_CELLS, sizeof h->cell[0], "palette histogram");
    if (!h->cell) {
        free(h);
        return PF_ERR_OOM;
    }
    *out = h;
    return PF_OK;
}

void pf_palette_hist_free(pf_palette_hist *h) {
    if (!h) return;
    free(h->cell);
    free(h);
}

void pf_palette_hist_add(pf_palette_hist *h, const uint8_t *rgb, size_t npix) {
    for (size_t i = 0; i < npix; i++, rgb += 3) {
        uint64_t *c = h->cell[cell_of(rgb[0], rgb[1], rgb[2])];
        c[0]++;
        c[1] += rgb[0];
        c[2] += rgb[1];
        c[3] += rgb[2];
    }
}

/* A non-empty histogram cell: its weight and mean colour. */
typedef struct {
    double mean[3];
    double key; /* sort key: mean[axis] of the box being split */
    uint64_t count;
} pf_cell;

typedef struct {
    int start, end; /* cells [start, end) */
    double sse;     /* count-weighted squared distance of the cells to the box mean */
    double mean[3];
    int axis; /* channel of largest variance */
} pf_box;

static void box_measure(const pf_cell *cells, pf_box *b) {
    double w = 0, s[3] = {0, 0, 0};
    for (int i = b->start; i < b->end; i++) {
        double c = (double)cells[i].count;
        w += c;
        for (int k = 0; k < 3; k++) s[k] += c * cells[i].mean[k];
    }
    for (int k = 0; k < 3; k++) b->mean[k] = w > 0 ? s[k] / w : 0;
    double var[3] = {0, 0, 0};
    for (int i = b->start; i < b->end; i++) {
        double c = (double)cells[i].count;
        for (int k = 0; k < 3; k++) {
            double d = cells[i].mean[k] - b->mean[k];
            var[k] += c * d * d;
        }
    }
    b->sse = var[0] + var[1] + var[2];
    b->axis = var[1] > var[0] ? 1 : 0;
    if (var[2] > var[b->axis]) b->axis = 2;
}

static int cmp_key(const void *a, const void *b) {
    double x = ((const pf_cell *)a)->key, y = ((const pf_cell *)b)->key;
    return x < y ? -1 : x > y;
}

pf_status pf_palette_build(const pf_palette_hist *h, int max_colors, uint8_t pal[][3], int *ncolors) {
    *ncolors = 1;
    memset(pal[0], 0, 3); /* an empty histogram gives one black entry */
    if (max_colors < 1) max_colors = 1;
    if (max_colors > PF_PALETTE_MAX) max_colors = PF_PALETTE_MAX;
    size_t n = 0;
    for (uint32_t i = 0; i < PF_HIST_CELLS; i++) n += h->cell[i][0] != 0;
    if (n == 0) return PF_OK;
    pf_cell *cells = pf_malloc(n * sizeof *cells, "palette cells");
    if (!cells) return PF_ERR_OOM;
    pf_box boxes[PF_PALETTE_MAX];
    n = 0;
    for (uint32_t i = 0; i < PF_HIST_CELLS; i++) {
        const uint64_t *c = h->cell[i];
        if (!c[0]) continue;
        for (int k = 0; k < 3; k++) cells[n].mean[k] = (double)c[k + 1] / (double)c[0];
        cells[n].count = c[0];
        n++;
    }
    int nb = 1;
    boxes[0] = (pf_box){.start = 0, .end = (int)n};
    box_measure(cells, &boxes[0]);
    while (nb < max_colors) {
        int pick = -1;
        for (int i = 0; i < nb; i++)
            if (boxes[i].end - boxes[i].start >= 2 && boxes[i].sse > 0 && (pick < 0 || boxes[i].sse > boxes[pick].sse))
                pick = i;
        if (pick < 0) break; /* every box is a single colour */
        pf_box *b = &boxes[pick];
        for (int i = b->start; i < b->end; i++) cells[i].key = cells[i].mean[b->axis];
        qsort(cells + b->start, (size_t)(b->end - b->start), sizeof *cells, cmp_key);
        double total = 0, acc = 0;
        for (int i = b->start; i < b->end; i++) total += (double)cells[i].count;
        int cut = b->start + 1;
        for (int i = b->start; i < b->end - 1; i++) {
            acc += (double)cells[i].count;
            cut = i + 1;
            if (acc >= total / 2) break;
        }
        pf_box right = {.start = cut, .end = b->end};
        b->end = cut;
        box_measure(cells, b);
        box_measure(cells, &right);
        boxes[nb++] = right;
    }
    for (int i = 0; i < nb; i++)
        for (int k = 0; k < 3; k++) {
            double v = boxes[i].mean[k] + 0.5;
            pal[i][k] = v >= 255 ? 255 : v <= 0 ? 0 : (uint8_t)v;
        }
    free(cells);
    *ncolors = nb;
    return PF_OK;
}

struct pf_palette_map {
    uint8_t pal[PF_PALETTE_MAX][3];
    int n;
    uint8_t *index; /* [2^24] nearest palette index per colour */
    uint8_t *known; /* [2^21] bit set when index[] holds the answer */
};

pf_status pf_palette_map_new(const uint8_t pal[][3], int n, pf_palette_map **out) {
    *out = NULL;
    if (n < 1 || n > PF_PALETTE_MAX) return pf_error(PF_ERR_INVALID_ARG, "palette of %d colours", n);
    pf_palette_map *m = pf_calloc(1, sizeof *m, "palette map");
    if (!m) return PF_ERR_OOM;
    memcpy(m->pal, pal, (size_t)n * 3);
    m->n = n;
    m->index = pf_malloc(1u << 24, "palette colour cache");
    m->known = pf_calloc(1u << 21, 1, "palette colour cache");
    if (!m->index || !m->known) {
        pf_palette_map_free(m);
        return PF_ERR_OOM;
    }
    *out = m;
    return PF_OK;
}

void pf_palette_map_free(pf_palette_map *m) {
    if (!m) return;
    free(m->index);
    free(m->known);
    free(m);
}

uint8_t pf_palette_nearest(pf_palette_map *m, uint8_t r, uint8_t g, uint8_t b) {
    uint32_t key = ((uint32_t)r << 16) | ((uint32_t)g << 8) | b;
    if (m->known[key >> 3] & (1u << (key & 7))) return m->index[key];
    int best = 0, bestd = 1 << 30;
    for (int i = 0; i < m->n; i++) {
        int dr = (int)r - m->pal[i][0], dg = (int)g - m->pal[i][1], db = (int)b - m->pal[i][2];
        int d = dr * dr + dg * dg + db * db;
        if (d < bestd) {
            bestd = d;
            best = i;
        }
    }
    m->index[key] = (uint8_t)best;
    m->known[key >> 3] |= (uint8_t)(1u << (key & 7));
    return (uint8_t)best;
}

static inline uint8_t clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

pf_status pf_palette_dither(pf_palette_map *m, const uint8_t *rgb, int w, int h, uint8_t *idx, int stride) {
    /* Error rows with one guard cell on each side, so x - 1 and x + 1 need
     * no bounds checks; the guards absorb error that falls off the image. */
    int (*cur)[3] = pf_calloc((size_t)w + 2, sizeof *cur, "dither row");
    int (*nxt)[3] = pf_calloc((size_t)w + 2, sizeof *nxt, "dither row");
    if (!cur || !nxt) {
        free(cur);
        free(nxt);
        return PF_ERR_OOM;
    }
    for (int y = 0; y < h; y++) {
        memset(nxt, 0, ((size_t)w + 2) * sizeof *nxt);
        const uint8_t *src = rgb + (size_t)y * (size_t)w * 3;
        uint8_t *dst = idx + (size_t)y * (size_t)stride;
        for (int x = 0; x < w; x++) {
            int c[3];
            for (int k = 0; k < 3; k++) c[k] = clamp255(src[3 * x + k] + cur[x + 1][k]);
            uint8_t i = pf_palette_nearest(m, (uint8_t)c[0], (uint8_t)c[1], (uint8_t)c[2]);
            dst[x] = i;
            for (int k = 0; k < 3; k++) {
                /* right 2/4, down-left 1/4, down 1/4; the last share takes
                 * what integer division leaves, so no error is lost. */
                int e = c[k] - m->pal[i][k], right = e / 2, dl = e / 4;
                cur[x + 2][k] += right;
                nxt[x][k] += dl;
                nxt[x + 1][k] += e - right - dl;
            }
        }
        int (*t)[3] = cur;
        cur = nxt;
        nxt = t;
    }
    free(cur);
    free(nxt);
    return PF_OK;
}
