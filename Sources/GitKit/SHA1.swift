import CCrypto

/// SHA-1 for the index file's trailing checksum, which git and libgit2 check against the
/// file's bytes: OpenSSL's (CCrypto), plain SHA-1 rather than the collision-detecting variant
/// libgit2 uses for objects. The checksum guards against truncation and bit rot, not against
/// an adversary. `IndexFileTests` holds it to the standard's vectors and to sha1sum.
enum SHA1 {
    static func digest(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        let ok = bytes.withUnsafeBytes { b in expt_sha1(b.baseAddress, b.count, &out) }
        guard ok == 1 else { throw GitError(operation: "hash the index", subject: nil, code: -1, message: "OpenSSL's SHA-1 failed") }
        return out
    }
}
