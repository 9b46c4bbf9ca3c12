import Foundation

/// JSON as expt prints it: snake_case keys, sorted, ISO-8601 dates, unescaped slashes, and every
/// key present, `null` when it has no value.
///
/// Synthesized `Encodable` writes optionals with `encodeIfPresent`, which JSONEncoder skips on nil,
/// so `--json` output silently lost keys. This encoder's keyed container writes `null` instead.
/// Everything else copies JSONEncoder as configured before (swift-foundation 6.3 with
/// `.convertToSnakeCase`, `.iso8601`, `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`), so a
/// value without nils prints byte-for-byte what JSONEncoder printed. Differences, on purpose:
/// - non-finite floats become the strings "nan", "inf", "-inf" (JSONEncoder throws by default;
///   these are the strings `expt diagnose --json` has always written);
/// - a value that encodes nothing prints `{}` (JSONEncoder throws at the top level).
public enum JSONOutput {
    public enum Style: Sendable {
        /// Two-space indent and `"key" : value`: exactly JSONEncoder's `.prettyPrinted`.
        case pretty
        /// One compact line (`{"key":value}`), for JSON Lines. Strings keep their spaces.
        case line
    }

    public static func encode<T: Encodable>(_ value: T, style: Style = .pretty) throws -> String {
        let root = TreeNode()
        try TreeEncoder.encode(value, into: root, path: [])
        var writer = TreeWriter(pretty: style == .pretty)
        writer.write(root)
        return writer.out
    }

    /// JSONEncoder's `convertToSnakeCase`, same algorithm (split before an uppercase letter after a
    /// lowercase one, and before the last capital of a run followed by lowercase), so existing keys
    /// keep their spelling: `jobId` → `job_id`, `myURLProperty` → `my_url_property`,
    /// `maxRSSMB` → `max_rssmb`. Works on Unicode scalars, as swift-foundation does.
    static func snakeCase(_ key: String) -> String {
        let s = Array(key.unicodeScalars)
        guard !s.isEmpty else { return key }
        func first(_ set: CharacterSet, from i: Int) -> Int? { (i..<s.count).first { set.contains(s[$0]) } }
        var words: [Range<Int>] = []
        var wordStart = 0, searchFrom = 1
        while let upper = first(.uppercaseLetters, from: searchFrom) {
            words.append(wordStart..<upper)
            guard let lower = first(.lowercaseLetters, from: upper) else { wordStart = upper; break }
            if lower == upper + 1 {
                wordStart = upper               // "Id": a capitalised word continues
            } else {
                words.append(upper..<(lower - 1)) // "URLP|roperty": the run minus its last capital
                wordStart = lower - 1
            }
            searchFrom = lower + 1
        }
        words.append(wordStart..<s.count)
        return words.map { r -> String in
            var w = ""
            w.unicodeScalars.append(contentsOf: s[r])
            return w.lowercased()
        }.joined(separator: "_")
    }
}

// MARK: - Value tree

/// A node the containers write into. A class, because containers are values handed out to
/// `encode(to:)` implementations and must all write to the same place.
private final class TreeNode {
    enum Kind { case empty, null, bool(Bool), number(String), string(String), object, array }
    var kind: Kind
    var fields: [String: TreeNode] = [:]
    var items: [TreeNode] = []

    init(_ kind: Kind = .empty) { self.kind = kind }

    func makeObject() { if case .object = kind { return }; kind = .object; fields = [:] }
    func makeArray() { if case .array = kind { return }; kind = .array; items = [] }

    /// The node under `key`, reused if present (JSONEncoder reuses nested containers too).
    func child(_ key: String) -> TreeNode {
        if let c = fields[key] { return c }
        let c = TreeNode()
        fields[key] = c
        return c
    }

    static func int<I: BinaryInteger>(_ v: I) -> Kind { .number(v.description) }

    /// Like JSONEncoder: `description` minus a trailing ".0" (2.0 → `2`, 0.1 → `0.1`, 1e-07 stays).
    static func float<F: BinaryFloatingPoint & CustomStringConvertible>(_ v: F) -> Kind {
        if v.isNaN { return .string("nan") }
        if v.isInfinite { return .string(v < 0 ? "-inf" : "inf") }
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return .number(s)
    }
}

private struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = "Index \(intValue)"; self.intValue = intValue }
}

/// JSONEncoder exempts `[String: V]` from the key strategy (its `_JSONStringDictionaryEncodableMarker`):
/// keys that are data (env var names, config keys) keep their spelling, e.g. `{"PATH": …, "myVar": …}`.
/// Other dictionaries go through Dictionary's own Encodable: Int keys become a keyed container and are
/// "converted" like any key (a no-op for digits), other keys an alternating array — as in JSONEncoder.
private protocol StringKeyedJSONDictionary {
    func encodeEntries(into node: TreeNode, path: [CodingKey]) throws
}

extension Dictionary: StringKeyedJSONDictionary where Key == String, Value: Encodable {
    fileprivate func encodeEntries(into node: TreeNode, path: [CodingKey]) throws {
        node.makeObject()
        for (key, value) in self {
            let child = TreeNode()
            node.fields[key] = child
            try TreeEncoder.encode(value, into: child, path: path + [TreeKey(stringValue: key)])
        }
    }
}

// MARK: - Encoder and containers

private struct TreeEncoder: Encoder {
    let node: TreeNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// JSONEncoder's special cases first, in its order (Date, Data, URL, Decimal, String-keyed
    /// dictionary), then the value's own `encode(to:)`. `as?` sees through a non-nil Optional, so
    /// `encode(Date?)` also lands here; a nil Optional encodes itself as `null`.
    static func encode<T: Encodable>(_ value: T, into node: TreeNode, path: [CodingKey]) throws {
        if let date = value as? Date {
            // What `.iso8601` writes (2026-12-01T20:00:00Z), by hand: the format style loads ICU's
            // time-zone data on first use, a tenth of `expt list --json`.
            node.kind = .string(ISO8601.timestamp(date, asFormatStyle: true))
        } else if let data = value as? Data {
            node.kind = .string(data.base64EncodedString())
        } else if let url = value as? URL {
            node.kind = .string(url.absoluteString)
        } else if let decimal = value as? Decimal {
            node.kind = .number(decimal.description)
        } else if let dict = value as? StringKeyedJSONDictionary {
            try dict.encodeEntries(into: node, path: path)
        } else {
            try value.encode(to: TreeEncoder(node: node, codingPath: path))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(TreeKeyed<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        node.makeArray()
        return TreeUnkeyed(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        TreeSingle(node: node, codingPath: codingPath)
    }
}

private struct TreeKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: TreeNode
    let codingPath: [CodingKey]

    private func name(_ key: CodingKey) -> String { SnakeCaseCache.name(key.stringValue) }
    private func put(_ kind: TreeNode.Kind, _ key: Key) { node.fields[name(key)] = TreeNode(kind) }
    private func sub(_ key: CodingKey) -> TreeEncoder {
        TreeEncoder(node: node.child(name(key)), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ v: Bool, forKey key: Key) throws { put(.bool(v), key) }
    mutating func encode(_ v: String, forKey key: Key) throws { put(.string(v), key) }
    mutating func encode(_ v: Double, forKey key: Key) throws { put(TreeNode.float(v), key) }
    mutating func encode(_ v: Float, forKey key: Key) throws { put(TreeNode.float(v), key) }
    mutating func encode(_ v: Int, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { put(TreeNode.int(v), key) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { put(TreeNode.int(v), key) }

    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws {
        let child = TreeNode()
        node.fields[name(key)] = child
        try TreeEncoder.encode(v, into: child, path: codingPath + [key])
    }

    // The point of this encoder: the protocol's default `encodeIfPresent` skips nil; these write null.
    mutating func encodeIfPresent(_ v: Bool?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: String?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Double?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Float?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Int?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Int8?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Int16?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Int32?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: Int64?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: UInt?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: UInt8?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: UInt16?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: UInt32?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent(_ v: UInt64?, forKey key: Key) throws { try orNull(v, key) }
    mutating func encodeIfPresent<T: Encodable>(_ v: T?, forKey key: Key) throws { try orNull(v, key) }

    private mutating func orNull<T: Encodable>(_ v: T?, _ key: Key) throws {
        if let v { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        sub(key).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { sub(key).unkeyedContainer() }
    /// JSONEncoder writes the superclass under the (converted) key "super".
    mutating func superEncoder() -> Encoder { sub(TreeKey(stringValue: "super")) }
    mutating func superEncoder(forKey key: Key) -> Encoder { sub(key) }
}

private struct TreeUnkeyed: UnkeyedEncodingContainer {
    let node: TreeNode
    let codingPath: [CodingKey]
    var count: Int { node.items.count }

    private func append(_ kind: TreeNode.Kind) { node.items.append(TreeNode(kind)) }
    /// A new slot at the end; superEncoder's slot is taken now, where JSONEncoder would insert it.
    private func next() -> TreeEncoder {
        let path = codingPath + [TreeKey(intValue: count)]
        let child = TreeNode()
        node.items.append(child)
        return TreeEncoder(node: child, codingPath: path)
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ v: Bool) throws { append(.bool(v)) }
    mutating func encode(_ v: String) throws { append(.string(v)) }
    mutating func encode(_ v: Double) throws { append(TreeNode.float(v)) }
    mutating func encode(_ v: Float) throws { append(TreeNode.float(v)) }
    mutating func encode(_ v: Int) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: Int8) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: Int16) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: Int32) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: Int64) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: UInt) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: UInt8) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: UInt16) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: UInt32) throws { append(TreeNode.int(v)) }
    mutating func encode(_ v: UInt64) throws { append(TreeNode.int(v)) }
    mutating func encode<T: Encodable>(_ v: T) throws {
        let sub = next()
        try TreeEncoder.encode(v, into: sub.node, path: sub.codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> Encoder { next() }
}

private struct TreeSingle: SingleValueEncodingContainer {
    let node: TreeNode
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { node.kind = .null }
    mutating func encode(_ v: Bool) throws { node.kind = .bool(v) }
    mutating func encode(_ v: String) throws { node.kind = .string(v) }
    mutating func encode(_ v: Double) throws { node.kind = TreeNode.float(v) }
    mutating func encode(_ v: Float) throws { node.kind = TreeNode.float(v) }
    mutating func encode(_ v: Int) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: Int8) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: Int16) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: Int32) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: Int64) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: UInt) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: UInt8) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: UInt16) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: UInt32) throws { node.kind = TreeNode.int(v) }
    mutating func encode(_ v: UInt64) throws { node.kind = TreeNode.int(v) }
    /// Into the same node: a wrapper's single value is the wrapped value itself.
    mutating func encode<T: Encodable>(_ v: T) throws { try TreeEncoder.encode(v, into: node, path: codingPath) }
}

// MARK: - Writer

/// swift-foundation's JSONWriter (what JSONEncoder uses) on Linux: keys sorted by UTF-8 bytes;
/// pretty output has two-space indents, `"key" : value`, and `{\n\n}` / `[\n\n]` for empty
/// containers; escapes `"`, `\`, and control characters (`\b \f \n \r \t`, else `\u00xx` in
/// lowercase hex); `/` and non-ASCII are written as is.
private struct TreeWriter {
    let pretty: Bool
    var out = ""
    private var indent = 0

    init(pretty: Bool) { self.pretty = pretty }

    mutating func write(_ node: TreeNode) {
        switch node.kind {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): writeString(s)
        case .array:
            writeContainer("[", "]", node.items.map { item -> (String?, TreeNode) in (nil, item) })
        case .empty, .object: // a value that encoded nothing is `{}`, as in JSONEncoder
            let keys = node.fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            writeContainer("{", "}", keys.map { key -> (String?, TreeNode) in (key, node.fields[key]!) })
        }
    }

    private mutating func writeContainer(_ open: String, _ close: String, _ entries: [(String?, TreeNode)]) {
        out += open
        if pretty { out += "\n"; indent += 1 }
        for (i, (key, value)) in entries.enumerated() {
            if i > 0 { out += pretty ? ",\n" : "," }
            if pretty { out += String(repeating: "  ", count: indent) }
            if let key {
                writeString(key)
                out += pretty ? " : " : ":"
            }
            write(value)
        }
        if pretty {
            indent -= 1
            out += "\n" + String(repeating: "  ", count: indent)
        }
        out += close
    }

    private mutating func writeString(_ s: String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00...0x1F: out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

/// Each key's snake_case spelling, worked out once per process: 500 experiments in `list --json`
/// ask for the same twenty keys 500 times.
private enum SnakeCaseCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var names: [String: String] = [:]
    static func name(_ key: String) -> String {
        lock.lock(); defer { lock.unlock() }
        if let known = names[key] { return known }
        let n = JSONOutput.snakeCase(key)
        names[key] = n
        return n
    }
}
