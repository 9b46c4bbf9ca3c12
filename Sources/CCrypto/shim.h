// OpenSSL's libcrypto, already in every expt process (libgit2's libssh2 links it), for one
// job: the SHA-1 trailer of the index file that GitKit's IndexFile writes. Its SHA-1 uses the
// CPU's SHA instructions where there are any; libgit2's hash functions are not public.
#include <openssl/evp.h>

/// SHA-1 of `count` bytes into `out` (20 bytes); 1 on success.
static inline int expt_sha1(const void *bytes, size_t count, unsigned char *out) {
    unsigned int length = 0;
    return EVP_Digest(bytes, count, out, &length, EVP_sha1(), NULL) == 1 && length == 20;
}
