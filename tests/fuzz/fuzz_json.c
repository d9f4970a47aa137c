/* libFuzzer target: JSON documents through pf_json, queried the way model loaders read
 * config.json and index files (typed getters, dotted keys, arrays with caps, optional keys). */
#include "pf_json.h"

#include <cjson/cJSON.h>

static const char *const keys[] = {
    "num_layers", "num_single_layers", "attention_head_dim", "num_attention_heads", "joint_attention_dim",
    "pooled_projection_dim", "axes_dims_rope", "patch_size", "in_channels", "sample_size", "block_out_channels",
    "encoder_block_out_channels", "layers_per_block", "norm_num_groups", "d_model", "use_flash_attn", "eps",
    "_class_name", "text_config.hidden_size", "a.b.c", "metadata.total_size", "weight_map", "", ".", "a..b",
    "x.", ".x",
};

/* Keeps the reads of every byte from being optimised away. */
volatile size_t pf_fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pf_json *j = NULL;
    if (pf_json_parse((const char *)data, size, "fuzz/config.json", &j) != PF_OK) return 0;
    size_t sink = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *key = keys[k], *s = NULL;
        int64_t i, ia[8];
        double d;
        bool b, ba[4];
        const char *sa[4];
        int n = 0;
        sink += pf_json_has(j, key);
        if (pf_json_int(j, key, &i) == PF_OK) sink += (size_t)i;
        if (pf_json_num(j, key, &d) == PF_OK) sink += d > 0;
        if (pf_json_bool(j, key, &b) == PF_OK) sink += b;
        if (pf_json_str(j, key, &s) == PF_OK) sink += strlen(s);
        if (pf_json_int_array(j, key, ia, 8, &n) == PF_OK) sink += (size_t)n;
        if (pf_json_bool_array(j, key, ba, 4, &n) == PF_OK) sink += (size_t)n;
        if (pf_json_str_array(j, key, sa, 4, &n) == PF_OK)
            for (int m = 0; m < n; m++) sink += strlen(sa[m]);
        pf_status rc = PF_OK;
        sink += (size_t)pf_json_opt_int(j, key, 3, &rc);
        sink += pf_json_opt_num(j, key, 0.5, &rc) > 0;
        sink += pf_json_opt_bool(j, key, true, &rc);
        sink += strlen(pf_json_opt_str(j, key, "dflt", &rc));
    }
    /* an index file: weight_map name -> shard file */
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(pf_json_root(j), "weight_map");
    if (cJSON_IsObject(wm))
        for (const cJSON *e = wm->child; e; e = e->next)
            if (cJSON_IsString(e)) sink += strlen(e->string) + strlen(e->valuestring);
    pf_fuzz_sink = sink;
    pf_json_free(j);
    return 0;
}
