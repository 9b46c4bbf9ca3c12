#ifndef EXPT_CLIBGIT2_SHIM_H
#define EXPT_CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <zlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* git_libgit2_opts is variadic, which Swift cannot call: one wrapper per option we use. */
static inline int expt_git_set_extensions(const char **extensions, size_t count) {
    return git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, extensions, count);
}
static inline int expt_git_enable_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}
static inline int expt_git_enable_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}
static inline int expt_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

/* A write-only object database backend that writes loose objects as git does: compressed at
   zlib level 1 (git's core.looseCompression), through a temporary file in the object's own
   fan-out directory, linked into place. libgit2 1.5 makes every temporary file in objects/
   itself, so a checkpoint's 200 objects were 200 inode allocations in one directory, which
   ext4 slows to a crawl after deletions (docs/benchmarks.md). Reads stay with libgit2's own
   backends; objects written here are ordinary loose objects to every reader. */
typedef struct {
    git_odb_backend parent;
    char *objects_dir;
} expt_loose_writer;

static int expt_loose_fail(const char *what) {
    git_error_set_str(GIT_ERROR_OS, what);
    return -1;
}

static int expt_loose_write(git_odb_backend *backend, const git_oid *oid, const void *data, size_t len, git_object_t type) {
    expt_loose_writer *w = (expt_loose_writer *)backend;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), oid);
    size_t room = strlen(w->objects_dir) + 64;
    char *dir = malloc(room), *final = malloc(room), *tmp = malloc(room);
    unsigned char *out = NULL;
    int rc = -1, fd = -1;
    if (!dir || !final || !tmp) { expt_loose_fail("out of memory"); goto done; }
    tmp[0] = 0;
    snprintf(dir, room, "%s/%.2s", w->objects_dir, hex);
    snprintf(final, room, "%s/%s", dir, hex + 2);
    struct stat st;
    if (stat(final, &st) == 0) { rc = 0; goto done; }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { expt_loose_fail("cannot create the object directory"); goto done; }
    char header[64];
    int hlen = snprintf(header, sizeof(header), "%s %zu", git_object_type2string(type), len) + 1;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit(&zs, 1) != Z_OK) { expt_loose_fail("cannot start compressing"); goto done; }
    uLong bound = deflateBound(&zs, (uLong)(hlen + len)) + 64;
    out = malloc(bound);
    if (!out) { deflateEnd(&zs); expt_loose_fail("out of memory"); goto done; }
    zs.next_out = out; zs.avail_out = (uInt)bound;
    zs.next_in = (Bytef *)header; zs.avail_in = (uInt)hlen;
    int z = deflate(&zs, Z_NO_FLUSH);
    zs.next_in = (Bytef *)data; zs.avail_in = (uInt)len;
    if (z == Z_OK) z = deflate(&zs, Z_FINISH);
    size_t outlen = bound - zs.avail_out;
    deflateEnd(&zs);
    if (z != Z_STREAM_END) { expt_loose_fail("cannot compress the object"); goto done; }
    snprintf(tmp, room, "%s/tmp_obj_XXXXXX", dir);
    fd = mkstemp(tmp);
    if (fd < 0) { expt_loose_fail("cannot create a temporary object file"); goto done; }
    size_t written = 0;
    while (written < outlen) {
        ssize_t n = write(fd, out + written, outlen - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { expt_loose_fail(errno == ENOSPC ? "no space left on device" : "cannot write the object"); goto done; }
        written += (size_t)n;
    }
    fchmod(fd, 0444);
    if (close(fd) != 0) { fd = -1; expt_loose_fail("cannot write the object"); goto done; }
    fd = -1;
    if (link(tmp, final) != 0 && errno != EEXIST && rename(tmp, final) != 0) { expt_loose_fail("cannot move the object into place"); goto done; }
    rc = 0;
done:
    if (fd >= 0) close(fd);
    if (tmp && tmp[0]) unlink(tmp);
    free(out); free(dir); free(final); free(tmp);
    return rc;
}

static void expt_loose_free(git_odb_backend *backend) {
    expt_loose_writer *w = (expt_loose_writer *)backend;
    free(w->objects_dir);
    free(w);
}

/* Puts the writer in front of the repository's object database (the odb owns it). */
static inline int expt_git_attach_loose_writer(git_repository *repo, const char *objects_dir) {
    expt_loose_writer *w = calloc(1, sizeof(*w));
    if (!w) return -1;
    /* tmp is freed unset when a malloc failed: free(NULL) is fine. */
    git_odb_init_backend(&w->parent, GIT_ODB_BACKEND_VERSION);
    w->objects_dir = strdup(objects_dir);
    w->parent.write = expt_loose_write;
    w->parent.free = expt_loose_free;
    git_odb *odb = NULL;
    int rc = git_repository_odb(&odb, repo);
    if (rc == 0) rc = git_odb_add_backend(odb, &w->parent, 1000);
    if (rc != 0) expt_loose_free(&w->parent);
    git_odb_free(odb);
    return rc;
}
#endif
