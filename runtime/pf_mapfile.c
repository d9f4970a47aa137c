#include "pf_mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

pf_status pf_mapfile_open(const char *path, pf_mapfile *m) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pf_error(PF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pf_error(PF_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pf_error(PF_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return pf_error(PF_ERR_IO, "%s: file too large to map", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) { /* mmap of 0 bytes fails with EINVAL; readers report "truncated" themselves */
        close(fd);
        return PF_OK;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file referenced */
    if (p == MAP_FAILED) return pf_error(PF_ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(e));
    m->data = p;
    m->size = size;
    return PF_OK;
}

void pf_mapfile_close(pf_mapfile *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}
