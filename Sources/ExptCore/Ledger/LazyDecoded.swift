import Foundation

/// A ledger column of JSON decoded on first use. `status --all` reads 1,000 rows, and
/// decoding every run's job spec was a third of its time while most rows never look at it.
/// Copies share the decoded value; setting a new value replaces it (value semantics).
@propertyWrapper
public struct LazyDecoded<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    private final class Box: @unchecked Sendable {
        let lock = NSLock()
        let json: String?
        var decoded: Value??
        init(json: String?, decoded: Value??) { self.json = json; self.decoded = decoded }
    }
    private var box: Box

    public init(wrappedValue: Value?) { box = Box(json: nil, decoded: .some(wrappedValue)) }

    /// Decoded from `json` when first read; nil JSON, or JSON that does not decode, reads as nil.
    init(json: String?) { box = Box(json: json, decoded: json == nil ? .some(nil) : nil) }

    public var wrappedValue: Value? {
        get {
            box.lock.lock()
            defer { box.lock.unlock() }
            if let value = box.decoded { return value }
            let value = LedgerJSON.decode(Value.self, box.json)
            box.decoded = .some(value)
            return value
        }
        set { box = Box(json: nil, decoded: .some(newValue)) }
    }

    public var projectedValue: LazyDecoded<Value> { self }

    /// False only when the value certainly does not contain `text` (its undecoded JSON does
    /// not), so a caller can skip decoding rows that cannot match.
    public func mayContain(_ text: String) -> Bool {
        box.lock.lock()
        let undecoded = box.decoded == nil ? box.json : nil
        box.lock.unlock()
        return undecoded.map { Self.bytes($0, contain: text) } ?? true
    }

    /// A byte search (Foundation's `contains` goes through CFString on Linux).
    static func bytes(_ haystack: String, contain needle: String) -> Bool {
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        var i = 0
        while i <= h.count - n.count {
            if h[i] == n[0] {
                var j = 1
                while j < n.count, h[i + j] == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(wrappedValue: container.decodeNil() ? nil : try container.decode(Value.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue { try container.encode(value) } else { try container.encodeNil() }
    }

    public static func == (a: LazyDecoded, b: LazyDecoded) -> Bool { a.wrappedValue == b.wrappedValue }
}

extension KeyedDecodingContainer {
    /// A missing key reads as nil, as it does for a plain optional property.
    public func decode<V>(_ type: LazyDecoded<V>.Type, forKey key: Key) throws -> LazyDecoded<V> {
        try decodeIfPresent(type, forKey: key) ?? LazyDecoded(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    /// A nil value is left out, as it is for a plain optional property.
    public mutating func encode<V>(_ value: LazyDecoded<V>, forKey key: Key) throws {
        if value.wrappedValue != nil { try encodeIfPresent(value, forKey: key) }
    }
}
