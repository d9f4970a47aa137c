/* Reading the tokenizers' JSON files (tokenizer.json, vocab.json, configs). */
#include "tok_internal.h"

#include <cjson/cJSON.h>

pf_status pf_tok_json_load(const char *path, cJSON **out) {
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    PF_TRY(pf_read_file(path, &data, &len));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (!root) {
        size_t at = end && end >= data && end <= data + len ? (size_t)(end - data) : 0;
        free(data);
        return pf_error(PF_ERR_FORMAT, "%s: invalid JSON near byte %zu", path, at);
    }
    free(data);
    *out = root;
    return PF_OK;
}

const char *pf_tok_json_token_content(const cJSON *v) {
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(c)) return c->valuestring;
    }
    return NULL;
}
