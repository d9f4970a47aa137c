/* The pyramidal flow-matching scheduler against closed forms and the fact sheet's
 * bf16 timestep tables (pyramid-flow-facts.md §4.2, §4.4). The golden pack's tables
 * are checked by tests/golden/test_scheduler_golden.c. */
#include "pf_scheduler.h"
#include "pf_test.h"

static pf_scheduler *make_default(void) {
    pf_sched_config c;
    pf_sched_config_default(&c);
    pf_scheduler *s = NULL;
    if (pf_scheduler_create(&c, &s) != PF_OK) return NULL;
    return s;
}

/* With gamma = 1/3: corrected start = 2 s/(1 + s), alpha = 1/(1 + s), beta = sqrt(3) s/(1 + s),
 * s the original start sigma of the stage; global grid (N - i)/N. */
static pf_test_result test_closed_forms(void) {
    pf_scheduler *s = make_default();
    CHECK(s);
    CHECK_NEAR(s->start_sigmas[0], 1.0, 0);
    CHECK_NEAR(s->ori_start_sigmas[1], (double)(667.0f / 1000.0f), 0);
    CHECK_NEAR(s->ori_start_sigmas[2], (double)(334.0f / 1000.0f), 0);
    CHECK_NEAR(s->end_sigmas[2], 0.0, 0);
    CHECK_NEAR(s->end_sigmas[0], s->ori_start_sigmas[1], 0);
    for (int k = 1; k < 3; k++) {
        double o = s->ori_start_sigmas[k];
        CHECK_NEAR(s->start_sigmas[k], 2 * o / (1 + o), 1e-15);
        CHECK_NEAR(s->jump_alpha[k], 1 / (1 + o), 1e-15);
        CHECK_NEAR(s->jump_beta[k], sqrt(3.0) * o / (1 + o), 1e-15);
    }
    CHECK_NEAR(s->start_sigmas[1], 0.80023995, 1e-8);
    CHECK_NEAR(s->start_sigmas[2], 0.50074962, 1e-8);
    CHECK_NEAR(s->jump_alpha[1], 0.59988003, 1e-8);
    CHECK_NEAR(s->jump_beta[2], 0.43366189, 1e-8);
    /* stage boundaries = cumulative flow length / total */
    double d0 = s->start_sigmas[0] - s->end_sigmas[0], d1 = s->start_sigmas[1] - s->end_sigmas[1];
    double d2 = s->start_sigmas[2] - s->end_sigmas[2];
    CHECK_NEAR(s->timestep_ratios[0][1], d0 / (d0 + d1 + d2), 1e-15);
    CHECK_NEAR(s->timestep_ratios[1][1], (d0 + d1) / (d0 + d1 + d2), 1e-15);
    CHECK_NEAR(s->timestep_ratios[0][1], 0.256156, 1e-6);
    CHECK_NEAR(s->timestep_ratios[1][1], 0.614805, 1e-6);
    for (int i = 0; i < 1000; i++) {
        CHECK_NEAR(s->global_sigmas[i], (1000.0 - i) / 1000.0, 1e-7);
        CHECK_NEAR(s->global_timesteps[i], 1000.0 - i, 1e-4);
    }
    pf_scheduler_free(s);
    return PF_T_PASS;
}

/* The bf16 timesteps the official bf16 run feeds the DiT (fact sheet §4.2). */
static pf_test_result test_bf16_timesteps(void) {
    static const float t20[3][20] = {
        {1000, 988, 972, 960, 948, 932, 920, 904, 892, 880, 864, 852, 840, 824, 812, 800, 784, 772, 756, 744},
        {744, 724, 708, 688, 668, 648, 632, 612, 592, 576, 556, 536, 520, 500, 480, 462, 442, 424, 406, 386},
        {386, 366, 346, 326, 306, 284, 264, 244, 224, 204, 184, 163, 143, 123, 102.5f, 82.5f, 62, 41.75f, 21.625f,
         1.3828125f}};
    static const float t10[3][10] = {{1000, 972, 944, 916, 888, 856, 828, 800, 772, 744},
                                     {744, 704, 664, 624, 584, 544, 506, 466, 426, 386},
                                     {386, 344, 300, 258, 215, 172, 130, 87, 44, 1.3828125f}};
    pf_scheduler *s = make_default();
    CHECK(s);
    double ts[20], sg[21];
    for (int k = 0; k < 3; k++) {
        CHECK_OK(pf_scheduler_set_timesteps(s, k, 20, ts, sg));
        for (int i = 0; i < 20; i++) CHECK_MSG(pf_sched_round(ts[i], PF_BF16) == t20[k][i], "stage %d step %d: %.9g", k, i, ts[i]);
        CHECK_NEAR(sg[0], 1.0, 0);
        CHECK_NEAR(sg[19], 0.001, 1e-15);
        CHECK_NEAR(sg[20], 0.0, 0);
        CHECK_NEAR(sg[1], 1.0 - 0.999 / 19, 1e-12);
        CHECK_OK(pf_scheduler_set_timesteps(s, k, 10, ts, sg));
        for (int i = 0; i < 10; i++) CHECK_MSG(pf_sched_round(ts[i], PF_BF16) == t10[k][i], "stage %d step %d: %.9g", k, i, ts[i]);
        CHECK_NEAR(sg[1], 0.889, 1e-12);
    }
    /* stage 0 starts at 1000 and ends at tmax + 0.999 (tmin - tmax) of its 1000-entry table */
    CHECK_OK(pf_scheduler_set_timesteps(s, 0, 20, ts, sg));
    CHECK_NEAR(ts[0], 1000.0, 0);
    CHECK_NEAR(ts[19], 1000.0 + 0.999 * (s->global_timesteps[256] - 1000.0), 1e-9);
    /* one step: the stage's first timestep, sigmas [1, 0] */
    CHECK_OK(pf_scheduler_set_timesteps(s, 1, 1, ts, sg));
    CHECK_NEAR(ts[0], s->timesteps_per_stage[1][0], 0);
    CHECK_NEAR(sg[0], 1.0, 0);
    CHECK_NEAR(sg[1], 0.0, 0);
    pf_scheduler_free(s);
    return PF_T_PASS;
}

/* The rounding helper goes through float32 like c10::BFloat16(double). */
static pf_test_result test_round(void) {
    double d = 1.0 + ldexp(1.0, -8) + ldexp(1.0, -30);
    CHECK(pf_sched_round(d, PF_BF16) == 1.0f);
    CHECK(pf_sched_round(1.0 + ldexp(1.0, -8) + ldexp(1.0, -20), PF_BF16) == 1.0078125f);
    CHECK(pf_sched_round(0.1, PF_F32) == 0.1f);
    return PF_T_PASS;
}

static pf_test_result test_bad_config(void) {
    pf_sched_config c;
    pf_scheduler *s = NULL;
    pf_sched_config_default(&c);
    c.stages = 0;
    CHECK_ERR(pf_scheduler_create(&c, &s), PF_ERR_INVALID_ARG, "stages");
    pf_sched_config_default(&c);
    c.stage_range[2] = 0.2;
    CHECK_ERR(pf_scheduler_create(&c, &s), PF_ERR_INVALID_ARG, "stage_range");
    pf_sched_config_default(&c);
    c.gamma = 0;
    CHECK_ERR(pf_scheduler_create(&c, &s), PF_ERR_INVALID_ARG, "gamma");
    CHECK(s == NULL);
    s = make_default();
    CHECK(s);
    double ts[4], sg[5];
    CHECK_ERR(pf_scheduler_set_timesteps(s, 3, 4, ts, sg), PF_ERR_INVALID_ARG, "stage 3");
    CHECK_ERR(pf_scheduler_set_timesteps(s, 0, 0, ts, sg), PF_ERR_INVALID_ARG, "steps");
    pf_scheduler_free(s);
    return PF_T_PASS;
}

/* Other settings still give consistent tables (shift != 1, 2 stages). */
static pf_test_result test_other_config(void) {
    pf_sched_config c;
    pf_sched_config_default(&c);
    c.stages = 2;
    c.stage_range[1] = 0.5;
    c.stage_range[2] = 1.0;
    c.shift = 3.0;
    pf_scheduler *s = NULL;
    CHECK_OK(pf_scheduler_create(&c, &s));
    /* SD3 shift: sigma' = 3 s / (1 + 2 s) */
    double sg = 0.5;
    CHECK_NEAR(s->global_sigmas[500], 3 * sg / (1 + 2 * sg), 1e-7);
    CHECK_NEAR(s->timestep_ratios[1][1], 1.0, 0);
    CHECK(s->timesteps_per_stage[0][0] > s->timesteps_per_stage[1][0]);
    pf_scheduler_free(s);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_closed_forms), PF_TEST(test_bf16_timesteps), PF_TEST(test_round), PF_TEST(test_bad_config),
             PF_TEST(test_other_config))
