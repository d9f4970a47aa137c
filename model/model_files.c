/* Writing model folders (pf_model_files.h). */
#include "pf_model_files.h"

#include "pf_safetensors.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

pf_status pf_mkdir_p(const char *dir) {
    if (!dir || !*dir) return pf_error(PF_ERR_INVALID_ARG, "no folder given");
    if (pf_dir_exists(dir)) return PF_OK;
    char *p = pf_strdup(dir);
    if (!p) return PF_ERR_OOM;
    pf_status rc = PF_OK;
    /* every prefix ending at a '/', then the whole path */
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (!end && *s != '/') continue;
        *s = '\0';
        if (!pf_dir_exists(p) && mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = pf_error(PF_ERR_IO, "cannot create the folder %s: %s", p, strerror(errno));
            break;
        }
        if (!pf_dir_exists(p)) {
            rc = pf_error(PF_ERR_IO, "cannot create the folder %s: a file of that name is in the way", p);
            break;
        }
        if (end) break;
        *s = '/';
    }
    free(p);
    return rc;
}

/* dir/.name.pflow-PID.tmp */
static char *pf_tmp_name(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 48;
    char *t = malloc(n);
    if (!t) {
        pf_error(PF_ERR_OOM, "out of host memory");
        return NULL;
    }
    snprintf(t, n, "%s/.%s.pflow-%ld.tmp", dir, name, (long)getpid());
    return t;
}

/* Rename tmp over dir/name; removes tmp on failure. */
static pf_status pf_commit(char *tmp, const char *dir, const char *name) {
    char *dst = pf_path_join(dir, name);
    pf_status rc = PF_OK;
    if (!dst) {
        rc = pf_error(PF_ERR_OOM, "out of host memory");
    } else if (rename(tmp, dst) != 0) {
        rc = pf_error(PF_ERR_IO, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
    }
    if (rc != PF_OK) remove(tmp);
    free(dst);
    free(tmp);
    return rc;
}

pf_status pf_write_file(const char *dir, const char *name, const void *data, size_t n) {
    if (!dir || !name || (!data && n)) return pf_error(PF_ERR_INVALID_ARG, "pf_write_file: NULL argument");
    char *tmp = pf_tmp_name(dir, name);
    if (!tmp) return PF_ERR_OOM;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        pf_status rc = pf_error(PF_ERR_IO, "cannot write %s/%s: %s", dir, name, strerror(errno));
        free(tmp);
        return rc;
    }
    bool ok = n == 0 || fwrite(data, 1, n, f) == n;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        remove(tmp);
        free(tmp);
        return pf_error(PF_ERR_IO, "cannot write %s/%s: %s", dir, name, strerror(err));
    }
    return pf_commit(tmp, dir, name);
}

pf_status pf_write_text_file(const char *dir, const char *name, const char *text) {
    if (!text) return pf_error(PF_ERR_INVALID_ARG, "pf_write_text_file: NULL argument");
    return pf_write_file(dir, name, text, strlen(text));
}

pf_status pf_write_safetensors(const char *dir, const char *name, const pf_st_write_tensor *t, int n) {
    if (!dir || !name || (!t && n)) return pf_error(PF_ERR_INVALID_ARG, "pf_write_safetensors: NULL argument");
    char *tmp = pf_tmp_name(dir, name);
    if (!tmp) return PF_ERR_OOM;
    static const char *const mk[1] = {"format"}, *const mv[1] = {"pt"};
    pf_status rc = pf_st_write(tmp, t, n, mk, mv, 1); /* removes what it wrote on failure */
    if (rc != PF_OK) {
        free(tmp);
        return rc;
    }
    return pf_commit(tmp, dir, name);
}

pf_status pf_save_pool_safetensors(const pf_pool *pool, const char *dir, const char *name) {
    if (!pool || !dir || !name) return pf_error(PF_ERR_INVALID_ARG, "pf_save_pool_safetensors: NULL argument");
    if (pf_backend_is_meta(pf_pool_backend(pool)))
        return pf_error(PF_ERR_UNSUPPORTED, "%s/%s: the weights live on the meta backend (sizes only, no values)", dir,
                        name);
    int n = pf_pool_count(pool);
    pf_st_write_tensor *t = calloc((size_t)PF_MAX(n, 1), sizeof *t);
    void **data = calloc((size_t)PF_MAX(n, 1), sizeof *data);
    pf_status rc = t && data ? PF_OK : pf_error(PF_ERR_OOM, "out of host memory (saving %s)", name);
    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_tensor *x = pf_pool_at(pool, i);
        if (strlen(x->name) >= PF_NAME_LEN - 1) {
            rc = pf_error(PF_ERR_INTERNAL, "%s/%s: tensor name '%s' may have been cut at %d characters", dir, name,
                          x->name, PF_NAME_LEN - 1);
            break;
        }
        for (int j = 0; j < i && rc == PF_OK; j++)
            if (!strcmp(t[j].name, x->name))
                rc = pf_error(PF_ERR_INTERNAL, "%s/%s: two tensors named '%s'", dir, name, x->name);
        if (rc != PF_OK) break;
        size_t nb = pf_nbytes(x);
        data[i] = pf_malloc(nb ? nb : 1, x->name);
        if (!data[i]) {
            rc = PF_ERR_OOM;
            break;
        }
        if (nb) rc = pf_tensor_get(x, data[i], nb);
        t[i] =
            (pf_st_write_tensor){.name = x->name, .dtype = x->dtype, .ndim = x->ndim, .shape = x->ne, .data = data[i]};
    }
    if (rc == PF_OK) rc = pf_write_safetensors(dir, name, t, n);
    for (int i = 0; data && i < n; i++) free(data[i]);
    free(data);
    free(t);
    return rc;
}
