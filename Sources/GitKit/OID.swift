import CLibGit2

/// A git object id as a hex string value.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex }
    init(_ oid: git_oid) {
        var copy = oid
        var buf = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buf, 41, &copy)
        hex = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    var raw: git_oid {
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }
    public var short: String { String(hex.prefix(8)) }
    public var description: String { hex }
}
