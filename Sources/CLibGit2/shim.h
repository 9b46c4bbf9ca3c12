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
static int expt_loose_fail(const char *what) {
    git_error_set_str(GIT_ERROR_OS, what);
    return -1;
}

#include "packwriter.h"

typedef struct {
    git_odb_backend parent;
    char *objects_dir;
    expt_batch batch;   /* while active, new objects collect here and leave as one pack */
} expt_loose_writer;

static int expt_batch_flush_into_odb(expt_loose_writer *w);

static int expt_loose_write(git_odb_backend *backend, const git_oid *oid, const void *data, size_t len, git_object_t type) {
    expt_loose_writer *w = (expt_loose_writer *)backend;
    if (w->batch.active && len < EXPT_BATCH_MAX_BYTES) {
        if (expt_batch_add(&w->batch, oid, data, len, type) != 0) return -1;
        return w->batch.bytes >= EXPT_BATCH_MAX_BYTES ? expt_batch_flush_into_odb(w) : 0;
    }
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
    if (expt_write_all(fd, out, outlen) != 0) { expt_loose_fail(errno == ENOSPC ? "no space left on device" : "cannot write the object"); goto done; }
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

/* Reads answer for batched objects only; everything else is libgit2's own backends' job. */
static int expt_batch_read(void **out, size_t *len, git_object_t *type, git_odb_backend *backend, const git_oid *oid) {
    expt_loose_writer *w = (expt_loose_writer *)backend;
    expt_batch_object *o = expt_batch_find(&w->batch, oid);
    if (!o) return GIT_ENOTFOUND;
    if (expt_batch_inflate(backend, o, out) != 0) return -1;
    *len = o->size; *type = o->type;
    return 0;
}

static int expt_batch_read_header(size_t *len, git_object_t *type, git_odb_backend *backend, const git_oid *oid) {
    expt_batch_object *o = expt_batch_find(&((expt_loose_writer *)backend)->batch, oid);
    if (!o) return GIT_ENOTFOUND;
    *len = o->size; *type = o->type;
    return 0;
}

static int expt_batch_exists(git_odb_backend *backend, const git_oid *oid) {
    return expt_batch_find(&((expt_loose_writer *)backend)->batch, oid) != NULL;
}

static int expt_batch_freshen(git_odb_backend *backend, const git_oid *oid) {
    return expt_batch_find(&((expt_loose_writer *)backend)->batch, oid) ? 0 : GIT_ENOTFOUND;
}

/* Writes the batch as a pack and lets the odb's pack backend see it. */
static int expt_batch_flush_into_odb(expt_loose_writer *w) {
    if (w->batch.count == 0) return 0;
    if (expt_batch_write_pack(&w->batch, w->objects_dir) != 0) return -1;
    return w->parent.odb ? git_odb_refresh(w->parent.odb) : 0;
}

static void expt_loose_free(git_odb_backend *backend) {
    expt_loose_writer *w = (expt_loose_writer *)backend;
    expt_batch_clear(&w->batch);
    free(w->objects_dir);
    free(w);
}

/* Starts collecting new objects for one pack. Returns 1 when batching, 0 when objects stay
   loose (the repository already has EXPT_BATCH_MAX_PACKS packs: git gc --auto's business). */
static inline int expt_git_batch_begin(void *writer) {
    expt_loose_writer *w = writer;
    if (!w) return 0;
    expt_batch_clear(&w->batch);
    w->batch.active = expt_pack_count(w->objects_dir, EXPT_BATCH_MAX_PACKS) < EXPT_BATCH_MAX_PACKS;
    return w->batch.active;
}

/* Writes what the batch holds as one pack and stops batching; 0 on success. After a failure
   nothing was written and the batch is dropped. */
static inline int expt_git_batch_commit(void *writer) {
    expt_loose_writer *w = writer;
    if (!w) return 0;
    int rc = expt_batch_flush_into_odb(w);
    expt_batch_clear(&w->batch);
    w->batch.active = 0;
    return rc;
}

/* Stops batching and drops what it holds (an operation that failed before its commit). */
static inline void expt_git_batch_discard(void *writer) {
    expt_loose_writer *w = writer;
    if (!w) return;
    expt_batch_clear(&w->batch);
    w->batch.active = 0;
}

/* Puts the writer in front of the repository's object database (the odb owns it); *writer is
   the handle for expt_git_batch_*. */
static inline int expt_git_attach_loose_writer(git_repository *repo, const char *objects_dir, void **writer) {
    expt_loose_writer *w = calloc(1, sizeof(*w));
    if (!w) return -1;
    git_odb_init_backend(&w->parent, GIT_ODB_BACKEND_VERSION);
    w->objects_dir = strdup(objects_dir);
    w->parent.write = expt_loose_write;
    w->parent.read = expt_batch_read;
    w->parent.read_header = expt_batch_read_header;
    w->parent.exists = expt_batch_exists;
    w->parent.freshen = expt_batch_freshen;
    w->parent.free = expt_loose_free;
    git_odb *odb = NULL;
    int rc = git_repository_odb(&odb, repo);
    if (rc == 0) rc = git_odb_add_backend(odb, &w->parent, 1000);
    if (rc != 0) expt_loose_free(&w->parent);
    else *writer = w;
    git_odb_free(odb);
    return rc;
}
#endif
