#include "pf_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

/* Distinguishes temporary files of one process (several writers may be open). */
static atomic_uint pf_outfile_counter;

/* Splits path into a malloc'd directory ("." when none) and the base name. */
static pf_status split_path(const char *path, char **dir, const char **base) {
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    *base = slash ? slash + 1 : path;
    if (slash && dl == 0) dl = 1; /* "/name": the root directory */
    *dir = pf_malloc(dl + 2, "directory name");
    if (!*dir) return PF_ERR_OOM;
    if (slash) {
        memcpy(*dir, path, dl);
        (*dir)[dl] = '\0';
    } else {
        strcpy(*dir, ".");
    }
    return PF_OK;
}

/* `lookup`: the directory lookup itself failed (rather than creating a
 * file in an existing directory, which some file systems such as /proc
 * also refuse with ENOENT). */
static pf_status dir_error(const char *path, const char *dir, int err, bool lookup) {
    if (lookup && err == ENOENT)
        return pf_error(PF_ERR_IO, "cannot write '%s': directory '%s' does not exist; create it first (mkdir -p '%s')",
                        path, dir, dir);
    if (lookup && err == ENOTDIR)
        return pf_error(PF_ERR_IO, "cannot write '%s': '%s' is not a directory; choose another output path", path, dir);
    if (err == EACCES || err == EPERM || err == EROFS || err == ENOENT)
        return pf_error(PF_ERR_IO,
                        "cannot write '%s': cannot create files in directory '%s' (%s); choose a writable output "
                        "directory",
                        path, dir, strerror(err));
    return pf_error(PF_ERR_IO, "cannot write '%s': cannot create a file in '%s': %s", path, dir, strerror(err));
}

pf_status pf_outfile_create_tmp(const char *path, char **tmp_path) {
    *tmp_path = NULL;
    if (!path || !*path) return pf_error(PF_ERR_INVALID_ARG, "output path is empty");
    char *dir = NULL;
    const char *base = NULL;
    PF_TRY(split_path(path, &dir, &base));
    if (!*base) {
        pf_status s = pf_error(PF_ERR_INVALID_ARG, "output path '%s' names a directory; add a file name", path);
        free(dir);
        return s;
    }
    struct stat st;
    int rc = stat(dir, &st);
    if (rc != 0 || !S_ISDIR(st.st_mode)) {
        pf_status s = dir_error(path, dir, rc != 0 ? errno : ENOTDIR, true);
        free(dir);
        return s;
    }
    /* Keep the temporary name within NAME_MAX even for long base names. */
    int blen = (int)PF_MIN(strlen(base), (size_t)120);
    size_t cap = strlen(dir) + (size_t)blen + 64;
    char *tmp = pf_malloc(cap, "temporary file name");
    if (!tmp) {
        free(dir);
        return PF_ERR_OOM;
    }
    pf_status s = PF_OK;
    for (int attempt = 0;; attempt++) {
        unsigned n = atomic_fetch_add(&pf_outfile_counter, 1u);
        snprintf(tmp, cap, "%s/.%.*s.pflow-%ld-%u.tmp", dir, blen, base, (long)getpid(), n);
        /* O_EXCL: never clobber a file we did not create; 0666 so that the
         * final file gets the usual permissions after umask. */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            break;
        }
        if (errno != EEXIST || attempt > 1000) {
            s = dir_error(path, dir, errno, false);
            break;
        }
    }
    free(dir);
    if (s != PF_OK) {
        free(tmp);
        return s;
    }
    *tmp_path = tmp;
    return PF_OK;
}

pf_status pf_outfile_commit(const char *tmp_path, const char *path) {
    if (rename(tmp_path, path) != 0) {
        int err = errno;
        unlink(tmp_path);
        return pf_error(PF_ERR_IO, "cannot move the finished file into place as '%s': %s", path, strerror(err));
    }
    return PF_OK;
}

void pf_outfile_discard(const char *tmp_path) {
    if (tmp_path) unlink(tmp_path);
}

pf_status pf_outfile_check_writable(const char *path) {
    if (!path || !*path) return pf_error(PF_ERR_INVALID_ARG, "output path is empty");
    if (pf_dir_exists(path))
        return pf_error(PF_ERR_INVALID_ARG, "output path '%s' is a directory; add a file name", path);
    char *tmp = NULL;
    PF_TRY(pf_outfile_create_tmp(path, &tmp));
    pf_outfile_discard(tmp);
    free(tmp);
    return PF_OK;
}

const char *pf_path_extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    /* ".hidden" has no extension */
    return dot && dot != base ? dot + 1 : "";
}
