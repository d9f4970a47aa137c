/*
 * Output files that appear whole or not at all: write to a hidden temporary
 * file in the destination's directory, rename it over the destination at the
 * end. rename() within one directory is atomic on POSIX file systems, so a
 * reader never sees a half-written video, and a failed write leaves nothing
 * under the requested name.
 */
#ifndef PF_OUTFILE_H
#define PF_OUTFILE_H

#include "pf_common.h"

/* Creates an empty, uniquely named temporary file next to `path`
 * ("DIR/.BASE.pflow-PID-N.tmp", mode 0666 minus umask like any new file)
 * and returns its malloc'd name in *tmp_path. The error message says what to
 * do when the directory is missing or not writable. */
pf_status pf_outfile_create_tmp(const char *path, char **tmp_path);

/* Renames tmp_path over path. On failure the temporary file is removed. */
pf_status pf_outfile_commit(const char *tmp_path, const char *path);

/* Removes the temporary file (errors ignored: this runs on failure paths). */
void pf_outfile_discard(const char *tmp_path);

/* Checks that a file can be created next to `path` (by creating and removing
 * a probe file) and that `path` is not a directory. */
pf_status pf_outfile_check_writable(const char *path);

/* Case-insensitive extension of the last path component, without the dot
 * ("" when there is none). Points into `path`. */
const char *pf_path_extension(const char *path);

#endif /* PF_OUTFILE_H */
