/* JSON documents: typed getters, dotted keys, optional keys, and errors naming file and key. */
#include "pf_json.h"
#include "pf_test.h"
#include "pf_test_files.h"

#include <cjson/cJSON.h>

static const char *config =
    "{\n"
    "  \"_class_name\": \"PyramidFluxTransformer\",\n"
    "  \"num_layers\": 2,\n"
    "  \"attention_head_dim\": 64,\n"
    "  \"eps\": 1e-6,\n"
    "  \"use_gradient_checkpointing\": false,\n"
    "  \"axes_dims_rope\": [16, 24, 24],\n"
    "  \"flags\": [true, false],\n"
    "  \"names\": [\"a\", \"b\"],\n"
    "  \"pooled_projection_dim\": null,\n"
    "  \"big\": 9007199254740992,\n"
    "  \"frac\": 2.5,\n"
    "  \"text\": {\"d_model\": 64, \"inner\": {\"heads\": 4}},\n"
    "  \"dotted.key\": 7\n"
    "}\n";

static pf_test_result test_getters(void) {
    pf_json *j;
    CHECK_OK(pf_json_parse(config, strlen(config), "dir/config.json", &j));
    CHECK(!strcmp(pf_json_label(j), "dir/config.json"));
    CHECK(cJSON_IsObject(pf_json_root(j)));
    int64_t i;
    double d;
    bool b;
    const char *s;
    CHECK_OK(pf_json_int(j, "num_layers", &i));
    CHECK(i == 2);
    CHECK_OK(pf_json_int(j, "big", &i));
    CHECK(i == 9007199254740992LL);
    CHECK_OK(pf_json_num(j, "eps", &d));
    CHECK(d == 1e-6);
    CHECK_OK(pf_json_num(j, "num_layers", &d)); /* an integer is a number too */
    CHECK(d == 2.0);
    CHECK_OK(pf_json_bool(j, "use_gradient_checkpointing", &b));
    CHECK(!b);
    CHECK_OK(pf_json_str(j, "_class_name", &s));
    CHECK(!strcmp(s, "PyramidFluxTransformer"));
    CHECK_OK(pf_json_int(j, "text.d_model", &i));
    CHECK(i == 64);
    CHECK_OK(pf_json_int(j, "text.inner.heads", &i));
    CHECK(i == 4);
    CHECK_OK(pf_json_int(j, "dotted.key", &i)); /* a root key with a dot is found as is */
    CHECK(i == 7);
    CHECK(pf_json_has(j, "text.inner") && !pf_json_has(j, "text.outer") && !pf_json_has(j, "num_layers.x"));

    int64_t ax[4];
    int n = -1;
    CHECK_OK(pf_json_int_array(j, "axes_dims_rope", ax, 4, &n));
    CHECK(n == 3 && ax[0] == 16 && ax[2] == 24);
    bool fl[2];
    CHECK_OK(pf_json_bool_array(j, "flags", fl, 2, &n));
    CHECK(n == 2 && fl[0] && !fl[1]);
    const char *nm[2];
    CHECK_OK(pf_json_str_array(j, "names", nm, 2, &n));
    CHECK(n == 2 && !strcmp(nm[1], "b"));

    /* optional getters: absent or null -> default; present -> value */
    pf_status rc = PF_OK;
    CHECK(pf_json_opt_int(j, "num_layers", 9, &rc) == 2);
    CHECK(pf_json_opt_int(j, "missing", 9, &rc) == 9);
    CHECK(pf_json_opt_int(j, "pooled_projection_dim", 768, &rc) == 768);
    CHECK(pf_json_opt_num(j, "missing", 0.5, &rc) == 0.5);
    CHECK(pf_json_opt_bool(j, "missing", true, &rc));
    CHECK(!strcmp(pf_json_opt_str(j, "missing", "x", &rc), "x"));
    CHECK(rc == PF_OK);
    pf_json_free(j);
    return PF_T_PASS;
}

static pf_test_result test_errors_name_file_and_key(void) {
    pf_json *j;
    CHECK_OK(pf_json_parse(config, strlen(config), "dir/config.json", &j));
    int64_t i, ax[2];
    double d;
    bool b;
    const char *s;
    int n;
    CHECK_ERR(pf_json_int(j, "nope", &i), PF_ERR_NOT_FOUND, "dir/config.json: key 'nope' is missing");
    CHECK_ERR(pf_json_int(j, "frac", &i), PF_ERR_FORMAT, "key 'frac' is a number, not an integer");
    CHECK_ERR(pf_json_int(j, "_class_name", &i), PF_ERR_FORMAT, "key '_class_name' is a string, not an integer");
    CHECK_ERR(pf_json_num(j, "flags", &d), PF_ERR_FORMAT, "key 'flags' is an array, not a number");
    CHECK_ERR(pf_json_bool(j, "num_layers", &b), PF_ERR_FORMAT, "not a boolean");
    CHECK_ERR(pf_json_str(j, "text", &s), PF_ERR_FORMAT, "key 'text' is an object, not a string");
    CHECK_ERR(pf_json_int(j, "pooled_projection_dim", &i), PF_ERR_FORMAT, "is null");
    CHECK_ERR(pf_json_int_array(j, "axes_dims_rope", ax, 2, &n), PF_ERR_FORMAT, "has 3 entries, at most 2");
    CHECK_ERR(pf_json_int_array(j, "names", ax, 2, &n), PF_ERR_FORMAT, "key 'names': entry 0 is a string");
    CHECK_ERR(pf_json_int_array(j, "num_layers", ax, 2, &n), PF_ERR_FORMAT, "not an array");
    /* an optional key of the wrong type is an error; the first one is kept */
    pf_status rc = PF_OK;
    CHECK(pf_json_opt_int(j, "frac", 3, &rc) == 3 && rc == PF_ERR_FORMAT);
    CHECK(strstr(pf_last_error(), "'frac'"));
    CHECK(pf_json_opt_bool(j, "names", false, &rc) == false && rc == PF_ERR_FORMAT);
    CHECK(strstr(pf_last_error(), "'frac'")); /* not overwritten by the second */
    pf_json_free(j);
    return PF_T_PASS;
}

static pf_test_result test_files(void) {
    char *dir = pf_test_tmpdir("json");
    CHECK(dir);
    char p[4096];
    CHECK(pf_test_write_str(pf_test_fmt(p, sizeof p, "%s/config.json", dir), config));
    pf_json *j;
    CHECK_OK(pf_json_load(p, &j));
    CHECK(!strcmp(pf_json_label(j), p));
    pf_json_free(j);
    CHECK(pf_test_write_str(p, "[1, 2]"));
    CHECK_OK(pf_json_load(p, &j)); /* any JSON value loads; lookups on a non-object find nothing */
    int64_t i;
    CHECK_ERR(pf_json_int(j, "a", &i), PF_ERR_NOT_FOUND, "'a'");
    pf_json_free(j);
    CHECK(pf_test_write_str(p, "{\"a\": 1,\n\"b\": }"));
    CHECK_ERR(pf_json_load(p, &j), PF_ERR_FORMAT, "line 2");
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

/* pf_json_int_in: the range, the default for absent or null keys, required keys. */
static pf_test_result test_int_in(void) {
    pf_json *j;
    CHECK_OK(pf_json_parse(config, strlen(config), "dir/config.json", &j));
    int v = -1;
    CHECK_OK(pf_json_int_in(j, "num_layers", true, 0, 1, 100, &v));
    CHECK(v == 2);
    CHECK_OK(pf_json_int_in(j, "nope", false, 7, 1, 100, &v));
    CHECK(v == 7);
    CHECK_OK(pf_json_int_in(j, "pooled_projection_dim", false, 5, 1, 100, &v));
    CHECK(v == 5);
    CHECK_ERR(pf_json_int_in(j, "nope", true, 7, 1, 100, &v), PF_ERR_FORMAT, "dir/config.json: missing key \"nope\"");
    CHECK_ERR(pf_json_int_in(j, "num_layers", true, 0, 9, 100, &v), PF_ERR_FORMAT, "\"num_layers\" is 2, expected 9..100");
    CHECK_ERR(pf_json_int_in(j, "frac", false, 0, 0, 100, &v), PF_ERR_FORMAT, "key 'frac' is a number, not an integer");
    CHECK(v == 5);
    pf_json_free(j);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_getters), PF_TEST(test_errors_name_file_and_key), PF_TEST(test_int_in), PF_TEST(test_files))
