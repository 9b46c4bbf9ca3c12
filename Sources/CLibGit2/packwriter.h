#ifndef EXPT_CLIBGIT2_PACKWRITER_H
#define EXPT_CLIBGIT2_PACKWRITER_H
/* A batch of new objects written as one pack instead of one loose file each.

   A checkpoint of 100 edited files writes ~225 objects (the blobs, every tree on their paths,
   the commit). As loose objects that is 225 files created in 225 fan-out directories, about
   half of what `git add -A && git commit` spends on such a change (docs/benchmarks.md). In a
   batch they are compressed into memory as they are written, readable from there at once (the
   commit's own checks look its tree up), and written by expt_batch_flush as one version-2
   pack and its version-2 index: two files, renamed into objects/pack/ (the pack first, as git
   does, since readers look for the index). Undeltified, as git's own bulk-checkin packs are;
   git gc --auto folds packs together once there are more than 50 (gc.autoPackLimit), and
   loose objects once there are more than 6,700 (gc.auto): past EXPT_BATCH_MAX_PACKS packs the
   writer goes back to loose objects (expt_git_batch_begin), so that `gc --auto` is triggered
   by the loose count rather than packs piling up.

   The caller moves a ref to a batched object only after the flush returned 0, so a crash
   leaves at most unreferenced temporary files, never a ref to a missing object. */
#include <dirent.h>
#include <stdint.h>

/* ---- SHA-1 (FIPS 180-4), for the pack's and the index's trailing checksums only: object
   ids come from libgit2. */
typedef struct { uint32_t h[5]; uint64_t len; unsigned char buf[64]; size_t used; } expt_sha1;

static inline uint32_t expt_rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void expt_sha1_block(expt_sha1 *s, const unsigned char *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4*i] << 24 | (uint32_t)p[4*i+1] << 16 | (uint32_t)p[4*i+2] << 8 | p[4*i+3];
    for (int i = 16; i < 80; i++) w[i] = expt_rol(w[i-3] ^ w[i-8] ^ w[i-14] ^ w[i-16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6; }
        uint32_t t = expt_rol(a, 5) + f + e + k + w[i];
        e = d; d = c; c = expt_rol(b, 30); b = a; a = t;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

static void expt_sha1_init(expt_sha1 *s) {
    static const uint32_t h0[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, h0, sizeof(h0)); s->len = 0; s->used = 0;
}

static void expt_sha1_update(expt_sha1 *s, const void *data, size_t n) {
    const unsigned char *p = data;
    s->len += n;
    if (s->used) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->buf + s->used, p, take); s->used += take; p += take; n -= take;
        if (s->used < 64) return;
        expt_sha1_block(s, s->buf); s->used = 0;
    }
    for (; n >= 64; p += 64, n -= 64) expt_sha1_block(s, p);
    memcpy(s->buf, p, n); s->used = n;
}

static void expt_sha1_final(expt_sha1 *s, unsigned char out[20]) {
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, lenbuf[8];
    expt_sha1_update(s, &pad, 1);
    while (s->used != 56) expt_sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
    expt_sha1_update(s, lenbuf, 8);
    for (int i = 0; i < 5; i++) { out[4*i] = s->h[i] >> 24; out[4*i+1] = s->h[i] >> 16; out[4*i+2] = s->h[i] >> 8; out[4*i+3] = s->h[i]; }
}

/* ---- the batch */
typedef struct {
    git_oid oid;
    git_object_t type;
    size_t size;              /* inflated size */
    unsigned char *packed;    /* pack entry: the type/size header, then the zlib stream */
    size_t packed_len;
    uint32_t crc;
} expt_batch_object;

typedef struct {
    int active;
    expt_batch_object *objects;
    size_t count, capacity;
    size_t *slots;            /* open addressing over objects, index + 1; 0 is empty */
    size_t slot_count;
    size_t bytes;             /* packed bytes held */
} expt_batch;

/* Objects bigger than this go loose at once, and a batch holding this much is flushed, so a
   checkpoint of large files never holds them in memory. */
#define EXPT_BATCH_MAX_BYTES ((size_t)64 << 20)
/* Past this many packs, loose objects again (git gc --auto's own limit is 50). */
#define EXPT_BATCH_MAX_PACKS 40

static size_t expt_batch_hash(const git_oid *oid, size_t mask) {
    size_t h; memcpy(&h, oid->id, sizeof(h)); return h & mask;
}

static expt_batch_object *expt_batch_find(expt_batch *b, const git_oid *oid) {
    if (!b->slot_count) return NULL;
    size_t mask = b->slot_count - 1;
    for (size_t i = expt_batch_hash(oid, mask); b->slots[i]; i = (i + 1) & mask) {
        expt_batch_object *o = &b->objects[b->slots[i] - 1];
        if (git_oid_equal(&o->oid, oid)) return o;
    }
    return NULL;
}

static int expt_batch_rehash(expt_batch *b, size_t slot_count) {
    size_t *slots = calloc(slot_count, sizeof(size_t));
    if (!slots) return -1;
    free(b->slots); b->slots = slots; b->slot_count = slot_count;
    for (size_t k = 0; k < b->count; k++) {
        size_t i = expt_batch_hash(&b->objects[k].oid, slot_count - 1);
        while (slots[i]) i = (i + 1) & (slot_count - 1);
        slots[i] = k + 1;
    }
    return 0;
}

static void expt_batch_clear(expt_batch *b) {
    for (size_t k = 0; k < b->count; k++) free(b->objects[k].packed);
    free(b->objects); free(b->slots);
    int active = b->active;
    memset(b, 0, sizeof(*b));
    b->active = active;
}

/* Compresses one object into a pack entry and keeps it. */
static int expt_batch_add(expt_batch *b, const git_oid *oid, const void *data, size_t len, git_object_t type) {
    if (expt_batch_find(b, oid)) return 0;
    unsigned char header[16];
    size_t hlen = 0, rest = len >> 4;
    header[hlen++] = (unsigned char)((rest ? 0x80 : 0) | ((unsigned)type << 4) | (len & 0x0f));
    while (rest) { header[hlen++] = (unsigned char)((rest >> 7 ? 0x80 : 0) | (rest & 0x7f)); rest >>= 7; }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit(&zs, 1) != Z_OK) return expt_loose_fail("cannot start compressing");
    uLong bound = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *out = malloc(hlen + bound);
    if (!out) { deflateEnd(&zs); return expt_loose_fail("out of memory"); }
    memcpy(out, header, hlen);
    zs.next_in = (Bytef *)data; zs.avail_in = (uInt)len;
    zs.next_out = out + hlen; zs.avail_out = (uInt)bound;
    int z = deflate(&zs, Z_FINISH);
    size_t packed_len = hlen + (bound - zs.avail_out);
    deflateEnd(&zs);
    if (z != Z_STREAM_END) { free(out); return expt_loose_fail("cannot compress the object"); }
    if (b->count == b->capacity) {
        size_t cap = b->capacity ? b->capacity * 2 : 256;
        expt_batch_object *grown = realloc(b->objects, cap * sizeof(*grown));
        if (!grown) { free(out); return expt_loose_fail("out of memory"); }
        b->objects = grown; b->capacity = cap;
    }
    expt_batch_object *o = &b->objects[b->count++];
    git_oid_cpy(&o->oid, oid);
    o->type = type; o->size = len; o->packed = out; o->packed_len = packed_len;
    o->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), out, (uInt)packed_len);
    b->bytes += packed_len;
    if (b->count * 2 > b->slot_count) {
        /* The rehash places every object, the new one included. */
        if (expt_batch_rehash(b, b->slot_count ? b->slot_count * 2 : 512) != 0) {
            b->count--; b->bytes -= packed_len; free(out); return expt_loose_fail("out of memory");
        }
    } else {
        size_t mask = b->slot_count - 1, i = expt_batch_hash(oid, mask);
        while (b->slots[i]) i = (i + 1) & mask;
        b->slots[i] = b->count;
    }
    return 0;
}

/* The object's bytes, inflated into a buffer libgit2 owns. */
static int expt_batch_inflate(git_odb_backend *backend, expt_batch_object *o, void **out) {
    unsigned char *data = git_odb_backend_data_alloc(backend, o->size ? o->size : 1);
    if (!data) return expt_loose_fail("out of memory");
    size_t h = 1;
    while (o->packed[h - 1] & 0x80) h++;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) { git_odb_backend_data_free(backend, data); return expt_loose_fail("cannot start inflating"); }
    zs.next_in = o->packed + h; zs.avail_in = (uInt)(o->packed_len - h);
    zs.next_out = data; zs.avail_out = (uInt)o->size;
    int z = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (z != Z_STREAM_END || zs.avail_out != 0) { git_odb_backend_data_free(backend, data); return expt_loose_fail("a batched object is damaged"); }
    *out = data;
    return 0;
}

static int expt_write_all(int fd, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w; n -= (size_t)w;
    }
    return 0;
}

static void expt_put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

static int expt_oid_order(const void *a, const void *b) {
    return git_oid_cmp(&(*(expt_batch_object *const *)a)->oid, &(*(expt_batch_object *const *)b)->oid);
}

/* Writes `data` (n bytes, hashed into sha) to fd through a 64 KiB buffer. */
typedef struct { int fd; expt_sha1 sha; unsigned char buf[65536]; size_t used; int failed; } expt_out;
static void expt_out_put(expt_out *o, const void *data, size_t n) {
    expt_sha1_update(&o->sha, data, n);
    const unsigned char *p = data;
    while (n && !o->failed) {
        size_t take = sizeof(o->buf) - o->used < n ? sizeof(o->buf) - o->used : n;
        memcpy(o->buf + o->used, p, take); o->used += take; p += take; n -= take;
        if (o->used == sizeof(o->buf)) { if (expt_write_all(o->fd, o->buf, o->used)) o->failed = 1; o->used = 0; }
    }
}
static int expt_out_finish(expt_out *o, unsigned char digest[20]) {
    expt_sha1_final(&o->sha, digest);
    if (!o->failed && o->used && expt_write_all(o->fd, o->buf, o->used)) o->failed = 1;
    if (!o->failed && expt_write_all(o->fd, digest, 20)) o->failed = 1;
    return o->failed ? -1 : 0;
}

/* Writes the batch as objects/pack/pack-<checksum>.{pack,idx}; empties it. */
static int expt_batch_write_pack(expt_batch *b, const char *objects_dir) {
    if (b->count == 0) return 0;
    size_t room = strlen(objects_dir) + 128;
    char *packdir = malloc(room), *tmp_pack = malloc(room), *tmp_idx = malloc(room), *final = malloc(room);
    expt_batch_object **sorted = malloc(b->count * sizeof(*sorted));
    uint64_t *offsets = malloc(b->count * sizeof(uint64_t));
    expt_out *out = malloc(sizeof(expt_out));
    int rc = -1, fd = -1;
    if (!packdir || !tmp_pack || !tmp_idx || !final || !sorted || !offsets || !out) { expt_loose_fail("out of memory"); goto done; }
    tmp_pack[0] = tmp_idx[0] = 0;
    snprintf(packdir, room, "%s/pack", objects_dir);
    if (mkdir(packdir, 0777) != 0 && errno != EEXIST) { expt_loose_fail("cannot create the pack directory"); goto done; }

    /* The pack: header, the entries in the order they were written, the checksum. */
    snprintf(tmp_pack, room, "%s/tmp_pack_XXXXXX", packdir);
    if ((fd = mkstemp(tmp_pack)) < 0) { tmp_pack[0] = 0; expt_loose_fail("cannot create a temporary pack file"); goto done; }
    memset(out, 0, sizeof(*out)); out->fd = fd; expt_sha1_init(&out->sha);
    unsigned char head[12] = {'P', 'A', 'C', 'K'};
    expt_put32(head + 4, 2); expt_put32(head + 8, (uint32_t)b->count);
    expt_out_put(out, head, sizeof(head));
    uint64_t offset = sizeof(head);
    for (size_t k = 0; k < b->count; k++) {
        offsets[k] = offset;
        expt_out_put(out, b->objects[k].packed, b->objects[k].packed_len);
        offset += b->objects[k].packed_len;
        sorted[k] = &b->objects[k];
    }
    unsigned char pack_sum[20];
    if (expt_out_finish(out, pack_sum) != 0) { expt_loose_fail(errno == ENOSPC ? "no space left on device" : "cannot write the pack"); goto done; }
    fchmod(fd, 0444);
    if (close(fd) != 0) { fd = -1; expt_loose_fail("cannot write the pack"); goto done; }

    /* The index (version 2): fan-out, sorted ids, CRCs, offsets (64-bit ones past 2 GiB). */
    qsort(sorted, b->count, sizeof(*sorted), expt_oid_order);
    snprintf(tmp_idx, room, "%s/tmp_idx_XXXXXX", packdir);
    if ((fd = mkstemp(tmp_idx)) < 0) { tmp_idx[0] = 0; expt_loose_fail("cannot create a temporary index file"); goto done; }
    memset(out, 0, sizeof(*out)); out->fd = fd; expt_sha1_init(&out->sha);
    unsigned char ihead[8] = {0xff, 't', 'O', 'c'}, word[8];
    expt_put32(ihead + 4, 2);
    expt_out_put(out, ihead, sizeof(ihead));
    size_t k = 0;
    for (int byte = 0; byte < 256; byte++) {
        while (k < b->count && sorted[k]->oid.id[0] <= byte) k++;
        expt_put32(word, (uint32_t)k); expt_out_put(out, word, 4);
    }
    for (k = 0; k < b->count; k++) expt_out_put(out, sorted[k]->oid.id, 20);
    for (k = 0; k < b->count; k++) { expt_put32(word, sorted[k]->crc); expt_out_put(out, word, 4); }
    uint32_t large = 0;
    for (k = 0; k < b->count; k++) {
        uint64_t off = offsets[sorted[k] - b->objects];
        expt_put32(word, off < 0x80000000u ? (uint32_t)off : 0x80000000u | large++);
        expt_out_put(out, word, 4);
    }
    for (k = 0; k < b->count; k++) {
        uint64_t off = offsets[sorted[k] - b->objects];
        if (off < 0x80000000u) continue;
        expt_put32(word, (uint32_t)(off >> 32)); expt_put32(word + 4, (uint32_t)off); expt_out_put(out, word, 8);
    }
    expt_out_put(out, pack_sum, 20);
    unsigned char idx_sum[20];
    if (expt_out_finish(out, idx_sum) != 0) { expt_loose_fail(errno == ENOSPC ? "no space left on device" : "cannot write the pack index"); goto done; }
    fchmod(fd, 0444);
    if (close(fd) != 0) { fd = -1; expt_loose_fail("cannot write the pack index"); goto done; }
    fd = -1;

    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", pack_sum[i]);
    snprintf(final, room, "%s/pack-%s.pack", packdir, hex);
    if (rename(tmp_pack, final) != 0) { expt_loose_fail("cannot move the pack into place"); goto done; }
    tmp_pack[0] = 0;
    snprintf(final, room, "%s/pack-%s.idx", packdir, hex);
    if (rename(tmp_idx, final) != 0) {
        snprintf(final, room, "%s/pack-%s.pack", packdir, hex);
        unlink(final);
        expt_loose_fail("cannot move the pack index into place"); goto done;
    }
    tmp_idx[0] = 0;
    expt_batch_clear(b);
    rc = 0;
done:
    if (fd >= 0) close(fd);
    if (tmp_pack && tmp_pack[0]) unlink(tmp_pack);
    if (tmp_idx && tmp_idx[0]) unlink(tmp_idx);
    free(packdir); free(tmp_pack); free(tmp_idx); free(final); free(sorted); free(offsets); free(out);
    return rc;
}

/* How many packs objects/pack holds (stops counting at `limit`). */
static int expt_pack_count(const char *objects_dir, int limit) {
    size_t room = strlen(objects_dir) + 16;
    char *dir = malloc(room);
    if (!dir) return limit;
    snprintf(dir, room, "%s/pack", objects_dir);
    DIR *d = opendir(dir);
    free(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while (n < limit && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".idx") == 0) n++;
    }
    closedir(d);
    return n;
}
#endif
