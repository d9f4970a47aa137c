/* Pools sized to what they will hold (pf_pool_create_for): the models' random and loaded weights
 * allocate what they hold, not mostly empty 256 MiB chunks. */
#include "pf_backend.h"
#include "pf_test.h"
#include "pf_tiny_model.h"

/* What a model's weights may allocate beyond the aligned bytes its tensors hold: the estimate's
 * allowance for alignment padding (one alignment per tensor), nothing like a chunk. */
static bool pf_near(size_t allocated, size_t held) { return allocated >= held && allocated - held <= held / 64 + 65536; }

/* The runtime alone: an estimate allocates about the aligned payload; tensors beyond it still fit. */
static pf_test_result test_pool_create_for(void) {
    pf_backend *be = NULL;
    pf_pool *pool = NULL;
    CHECK_OK(pf_backend_create("cpu", NULL, &be));
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    size_t before = be->bytes_allocated;
    int64_t big[1] = {1000}, small[1] = {10};
    CHECK_OK(pf_pool_create_for(be, 4000 + 3 * 40, 4, &pool));
    CHECK(pf_pool_tensor(pool, PF_F32, 1, big, "big"));
    for (int i = 0; i < 3; i++) CHECK(pf_pool_tensor(pool, PF_F32, 1, small, "small"));
    CHECK_MSG(pf_near(be->bytes_allocated - before, pf_pool_bytes(pool)), "allocated %zu for %zu",
              be->bytes_allocated - before, pf_pool_bytes(pool));
    CHECK(be->bytes_allocated - before <= 4000 + 3 * 40 + 4 * info.alignment);
    CHECK(pf_pool_tensor(pool, PF_F32, 1, small, "beyond the estimate"));
    CHECK(pf_pool_tensor(pool, PF_F32, 1, big, "beyond the estimate"));
    pf_pool_free(pool);
    CHECK(be->bytes_allocated == before);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Every model of both tiny variants, in f32 and bf16: the backend holds the weights and little more. */
static pf_test_result test_models_allocate_their_weights(void) {
    pf_backend *be = NULL;
    CHECK_OK(pf_backend_create("cpu", NULL, &be));
    static const pf_dit_variant variants[2] = {PF_DIT_FLUX, PF_DIT_MMDIT};
    static const pf_dtype dtypes[2] = {PF_F32, PF_BF16};
    for (int vi = 0; vi < 2; vi++)
        for (int di = 0; di < 2; di++) {
            pf_tiny_model_spec s;
            CHECK_OK(pf_tiny_model_spec_default(variants[vi], &s));
            pf_dtype dt = dtypes[di];
            size_t before = be->bytes_allocated;
            pf_dit *dit = NULL;
            CHECK_OK(pf_dit_create_random(&s.dit, be, dt, 1, &dit));
            pf_dit_stats ds;
            pf_dit_get_stats(dit, &ds);
            CHECK_MSG(pf_near(be->bytes_allocated - before, ds.weight_bytes), "DiT %d %s: %zu allocated for %zu", vi,
                      pf_dtype_name(dt), be->bytes_allocated - before, ds.weight_bytes);
            pf_dit_free(dit);

            pf_vae *vae = NULL;
            CHECK_OK(pf_vae_create_random(&s.vae, be, dt, 1, &vae));
            pf_vae_mem vm;
            pf_vae_last_mem(vae, &vm);
            CHECK_MSG(pf_near(be->bytes_allocated - before, vm.weight_bytes), "VAE %s: %zu allocated for %zu",
                      pf_dtype_name(dt), be->bytes_allocated - before, vm.weight_bytes);
            pf_vae_free(vae);

            const pf_clip_config *clips[2] = {&s.text.clip, vi ? &s.text.clip2 : NULL};
            for (int c = 0; c < 2 && clips[c]; c++) {
                pf_clip *clip = NULL;
                CHECK_OK(pf_clip_create_random(clips[c], be, dt, 1, &clip));
                pf_text_stats ts;
                pf_clip_get_stats(clip, &ts);
                CHECK_MSG(pf_near(be->bytes_allocated - before, ts.weight_bytes), "CLIP %d %s: %zu allocated for %zu", c,
                          pf_dtype_name(dt), be->bytes_allocated - before, ts.weight_bytes);
                pf_clip_free(clip);
            }
            pf_t5 *t5 = NULL;
            CHECK_OK(pf_t5_create_random(&s.text.t5, be, dt, 1, &t5));
            pf_text_stats ts;
            pf_t5_get_stats(t5, &ts);
            CHECK_MSG(pf_near(be->bytes_allocated - before, ts.weight_bytes), "T5 %s: %zu allocated for %zu",
                      pf_dtype_name(dt), be->bytes_allocated - before, ts.weight_bytes);
            pf_t5_free(t5);
            CHECK(be->bytes_allocated == before);
        }
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_pool_create_for), PF_TEST(test_models_allocate_their_weights))
