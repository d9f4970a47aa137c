#include "pf_jpeg_check.h"

static pf_status truncated(const char *path) {
    return pf_error(PF_ERR_FORMAT, "%s: truncated or corrupt JPEG: the file ends before its end-of-image marker", path);
}

pf_status pf_jpeg_check_complete(const char *path, const uint8_t *d, size_t n) {
    if (n < 2 || d[0] != 0xFF || d[1] != 0xD8) return pf_error(PF_ERR_FORMAT, "%s: not a JPEG file", path);
    size_t pos = 2;
    bool scanned = false;
    for (;;) {
        if (pos >= n) return truncated(path);
        if (d[pos] != 0xFF)
            return pf_error(PF_ERR_FORMAT, "%s: corrupt JPEG: expected a marker at byte %zu", path, pos);
        while (pos < n && d[pos] == 0xFF) pos++; /* a marker may be preceded by fill bytes */
        if (pos >= n) return truncated(path);
        uint8_t m = d[pos++];
        if (m == 0xD9) { /* EOI */
            if (!scanned) return pf_error(PF_ERR_FORMAT, "%s: corrupt JPEG: it holds no image data", path);
            return PF_OK;
        }
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* RSTn, TEM: no payload */
        if (m == 0xD8 || m == 0x00)
            return pf_error(PF_ERR_FORMAT, "%s: corrupt JPEG: unexpected marker 0x%02X at byte %zu", path, m, pos - 1);
        if (n - pos < 2) return truncated(path);
        size_t len = ((size_t)d[pos] << 8) | d[pos + 1]; /* counts its own two bytes */
        if (len < 2) return pf_error(PF_ERR_FORMAT, "%s: corrupt JPEG: bad segment length at byte %zu", path, pos);
        if (len > n - pos) return truncated(path);
        pos += len;
        if (m != 0xDA) continue;
        /* SOS: entropy-coded data follows up to the next marker. Inside it a
         * 0xFF byte is followed by 0x00 (a stuffed 0xFF), a restart marker or
         * a fill byte; anything else starts the next marker. */
        scanned = true;
        for (;;) {
            if (pos + 1 >= n) return truncated(path);
            if (d[pos] != 0xFF) {
                pos++;
                continue;
            }
            uint8_t nx = d[pos + 1];
            if (nx == 0x00 || (nx >= 0xD0 && nx <= 0xD7)) {
                pos += 2;
            } else if (nx == 0xFF) {
                pos++;
            } else {
                break; /* the outer loop reads this marker */
            }
        }
    }
}
