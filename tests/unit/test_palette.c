/* GIF colour quantisation: median cut and Sierra-2-4A error diffusion,
 * checked on cases whose answers follow from the definitions. */
#include "pf_palette.h"
#include "pf_test.h"

static pf_test_result test_few_colours_are_kept_exactly(void) {
    pf_palette_hist *h = NULL;
    CHECK_OK(pf_palette_hist_new(&h));
    const uint8_t cols[3][3] = {{10, 200, 30}, {250, 250, 250}, {0, 0, 0}};
    uint8_t img[30 * 3];
    for (int i = 0; i < 30; i++) memcpy(img + 3 * i, cols[i % 3], 3);
    pf_palette_hist_add(h, img, 30);
    uint8_t pal[PF_PALETTE_MAX][3];
    int n = 0;
    CHECK_OK(pf_palette_build(h, 256, pal, &n));
    CHECK(n == 3); /* a box holding one colour is never split */
    for (int c = 0; c < 3; c++) {
        bool found = false;
        for (int i = 0; i < n; i++) found |= !memcmp(pal[i], cols[c], 3);
        CHECK_MSG(found, "colour %d missing from the palette", c);
    }
    pf_palette_hist_free(h);
    return PF_T_PASS;
}

static pf_test_result test_palette_size_is_capped(void) {
    pf_palette_hist *h = NULL;
    CHECK_OK(pf_palette_hist_new(&h));
    /* 16^3 = 4096 distinct colours, each in its own histogram cell */
    uint8_t px[3];
    for (int r = 0; r < 16; r++)
        for (int g = 0; g < 16; g++)
            for (int b = 0; b < 16; b++) {
                px[0] = (uint8_t)(r * 16 + 8), px[1] = (uint8_t)(g * 16 + 8), px[2] = (uint8_t)(b * 16 + 8);
                pf_palette_hist_add(h, px, 1);
            }
    uint8_t pal[PF_PALETTE_MAX][3];
    int n = 0;
    CHECK_OK(pf_palette_build(h, 256, pal, &n));
    CHECK(n == 256);
    CHECK_OK(pf_palette_build(h, 16, pal, &n));
    CHECK(n == 16);
    /* Median cut of a uniform cube into 16 boxes: the box means stay inside
     * the data's range and are all different. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) CHECK(memcmp(pal[i], pal[j], 3) != 0);
    pf_palette_hist_free(h);
    /* An empty histogram still gives a valid one-colour palette. */
    CHECK_OK(pf_palette_hist_new(&h));
    CHECK_OK(pf_palette_build(h, 256, pal, &n));
    CHECK(n == 1);
    pf_palette_hist_free(h);
    return PF_T_PASS;
}

static pf_test_result test_nearest(void) {
    const uint8_t pal[3][3] = {{0, 0, 0}, {255, 255, 255}, {255, 0, 0}};
    pf_palette_map *m = NULL;
    CHECK_OK(pf_palette_map_new(pal, 3, &m));
    CHECK(pf_palette_nearest(m, 10, 10, 10) == 0);
    CHECK(pf_palette_nearest(m, 200, 190, 220) == 1);
    CHECK(pf_palette_nearest(m, 200, 30, 20) == 2);
    CHECK(pf_palette_nearest(m, 200, 30, 20) == 2); /* cached */
    pf_palette_map_free(m);
    CHECK_ERR(pf_palette_map_new(pal, 0, &m), PF_ERR_INVALID_ARG, "palette");
    return PF_T_PASS;
}

/* Grey 128 on a black/white palette: nearest-colour mapping alone would give
 * one flat colour; error diffusion must mix about half white pixels, so the
 * mean comes back to 128. A colour that is in the palette stays exact. */
static pf_test_result test_dither_mixes_to_the_mean(void) {
    const uint8_t pal[2][3] = {{0, 0, 0}, {255, 255, 255}};
    pf_palette_map *m = NULL;
    CHECK_OK(pf_palette_map_new(pal, 2, &m));
    enum { W = 40, H = 30, STRIDE = 48 };
    uint8_t img[H * W * 3], idx[H * STRIDE];
    memset(idx, 7, sizeof idx);
    memset(img, 128, sizeof img);
    CHECK_OK(pf_palette_dither(m, img, W, H, idx, STRIDE));
    int white = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            CHECK(idx[y * STRIDE + x] <= 1);
            white += idx[y * STRIDE + x];
        }
    CHECK_NEAR(255.0 * white / (W * H), 128.0, 3.0);
    CHECK(idx[STRIDE - 1] == 7); /* padding past the row is not touched */
    /* a quarter grey (64) -> about a quarter white */
    memset(img, 64, sizeof img);
    CHECK_OK(pf_palette_dither(m, img, W, H, idx, STRIDE));
    white = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) white += idx[y * STRIDE + x];
    CHECK_NEAR(255.0 * white / (W * H), 64.0, 3.0);
    /* palette colours map exactly, with no error to spread */
    for (int i = 0; i < H * W * 3; i++) img[i] = (uint8_t)((i / 3) % 2 ? 255 : 0);
    CHECK_OK(pf_palette_dither(m, img, W, H, idx, STRIDE));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) CHECK(idx[y * STRIDE + x] == (uint8_t)((y * W + x) % 2));
    pf_palette_map_free(m);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_few_colours_are_kept_exactly), PF_TEST(test_palette_size_is_capped), PF_TEST(test_nearest),
             PF_TEST(test_dither_mixes_to_the_mean))
