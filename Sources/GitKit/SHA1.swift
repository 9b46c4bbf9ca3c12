/// SHA-1 (FIPS 180-4) for the index file's trailing checksum, which git and libgit2 check
/// against the file's bytes. Plain SHA-1, not the collision-detecting variant libgit2 uses for
/// objects: the checksum guards against truncation and bit rot, not against an adversary, and
/// git's own index writer uses whichever SHA-1 it was built with. `SHA1Tests` holds it to the
/// standard's vectors and to git's own reading of an index expt wrote.
enum SHA1 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        let bitLength = UInt64(bytes.count) * 8
        var tail = Array(bytes[(bytes.count / 64 * 64)...])
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        withUnsafeBytes(of: bitLength.bigEndian) { tail += $0 }
        var w = [UInt32](repeating: 0, count: 80)
        w.withUnsafeMutableBufferPointer { w in
            func block(_ p: UnsafeRawPointer) {
                for t in 0..<16 { w[t] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self)) }
                for t in 16..<80 {
                    let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                    w[t] = (x << 1) | (x >> 31)
                }
                var (a, b, c, d, e) = h
                for t in 0..<80 {
                    let f: UInt32, k: UInt32
                    switch t {
                    case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                    case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                    case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                    default: f = b ^ c ^ d; k = 0xCA62_C1D6
                    }
                    let temp = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ w[t]
                    e = d; d = c; c = (b << 30) | (b >> 2); b = a; a = temp
                }
                h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
            }
            bytes.withUnsafeBytes { raw in
                for i in 0..<(bytes.count / 64) { block(raw.baseAddress! + i * 64) }
            }
            tail.withUnsafeBytes { raw in
                for i in 0..<(tail.count / 64) { block(raw.baseAddress! + i * 64) }
            }
        }
        var out: [UInt8] = []
        for v in [h.0, h.1, h.2, h.3, h.4] { withUnsafeBytes(of: v.bigEndian) { out += $0 } }
        return out
    }
}
