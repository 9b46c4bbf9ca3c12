/// Decodes `Decodable` types from a parsed table, with the accessors' errors:
/// every failure is a `TOMLError` naming the file, line and dotted key.
///
/// Property names map to snake_case keys (`memoryFactor` reads `memory_factor`).
/// Keys a table holds that decoding never asked for are rejected afterwards, with a
/// "did you mean" suggestion: a typo in an optional key must not pass silently.
public struct TOMLDecoder {
    /// Handed to the types being decoded as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: Any] = [:]

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from table: TOMLTable) throws -> T {
        let state = DecodingState()
        // Checked even if `T` never opens it: a type without keys accepts none.
        _ = state.register(table, path: [])
        let root = ValueDecoder(value: .table(table), location: Location(table: table, key: nil),
                                tomlPath: [], codingPath: [], state: state, userInfo: userInfo)
        let result = try root.unbox(T.self)
        try state.checkUnknownKeys()
        return result
    }

    /// `memoryFactor` → `memory_factor`, `URLPath` → `url_path`; a snake_case name is
    /// returned unchanged, so explicit CodingKeys may spell the file's keys directly.
    static func keyName(_ name: String) -> String {
        let s = Array(name.unicodeScalars)
        func isUpper(_ c: Unicode.Scalar) -> Bool { c >= "A" && c <= "Z" }
        func isLowerOrDigit(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "0" && c <= "9") }
        var out = String.UnicodeScalarView()
        for i in s.indices {
            let c = s[i]
            guard isUpper(c) else { out.append(c); continue }
            if i > 0 {
                let previous = s[i - 1]
                // "URLPath": the acronym ends before the capital that starts a word.
                let wordStarts = i + 1 < s.count && isLowerOrDigit(s[i + 1])
                if isLowerOrDigit(previous) || (isUpper(previous) && wordStarts) { out.append("_") }
            }
            out.append(Unicode.Scalar(c.value + 32)!)
        }
        return String(out)
    }
}

/// The keys asked of every table met while decoding, checked once decoding is done.
final class DecodingState {
    private var index: [String: Int] = [:]
    private var tables: [TOMLTable] = []
    private var asked: [Set<String>] = []
    /// Tables whose keys were listed (`allKeys`): a dictionary's keys are its own spelling.
    private var listed: Set<Int> = []

    /// Tables are identified by their path in the document (array elements by index),
    /// so several containers over one table share one set of asked keys.
    func register(_ table: TOMLTable, path: [String]) -> Int {
        let id = path.map { "\u{0}" + $0 }.joined()
        if let i = index[id] { return i }
        index[id] = tables.count
        tables.append(table)
        asked.append([])
        return tables.count - 1
    }

    func ask(_ key: String, in entry: Int) { asked[entry].insert(key) }

    func list(_ entry: Int) {
        listed.insert(entry)
        asked[entry].formUnion(tables[entry].keys)
    }

    func isListed(_ entry: Int) -> Bool { listed.contains(entry) }

    /// In the order the tables were first decoded, which is the declaration order.
    func checkUnknownKeys() throws {
        for (table, keys) in zip(tables, asked) { try table.checkKeys(allowed: keys) }
    }
}

/// Where a value sits, for errors: the key in its table, and the index path when it
/// is an element of an array. The root table has no key.
struct Location {
    var table: TOMLTable
    var key: String?
    var indices: [Int] = []

    func element(_ index: Int) -> Location {
        var l = self
        l.indices.append(index)
        return l
    }

    func error(_ message: String) -> TOMLError {
        guard let key else { return TOMLError(file: table.file, line: table.line, message: message) }
        let at = indices.isEmpty ? "" : " at index " + indices.map { String($0) }.joined(separator: ".")
        return table.error(message + at, key: key)
    }

    /// Worded as the accessors' mismatch, so both report a wrong type the same way.
    func mismatch(_ expected: String, found: TOMLValue) -> TOMLError {
        var what = found.typeNameWithArticle
        if let key, indices.isEmpty, table.arraysOfTables.contains(key) { what = "an array of tables" }
        return error("expected \(expected), found \(what)")
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

struct ValueDecoder: Decoder {
    let value: TOMLValue
    let location: Location
    /// Path of TOML names (elements as U+0001 and the index), identifying tables in `state`.
    let tomlPath: [String]
    let codingPath: [CodingKey]
    let state: DecodingState
    let userInfo: [CodingUserInfoKey: Any]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = value else { throw location.mismatch("a table", found: value) }
        let entry = state.register(table, path: tomlPath)
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, table: table, entry: entry))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw location.mismatch("an array", found: value) }
        return UnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleValueContainer(decoder: self) }

    func child(_ value: TOMLValue, name: String, in table: TOMLTable, key: CodingKey) -> ValueDecoder {
        ValueDecoder(value: value, location: Location(table: table, key: name), tomlPath: tomlPath + [name],
                     codingPath: codingPath + [key], state: state, userInfo: userInfo)
    }

    func element(_ value: TOMLValue, index: Int) -> ValueDecoder {
        ValueDecoder(value: value, location: location.element(index), tomlPath: tomlPath + ["\u{1}\(index)"],
                     codingPath: codingPath + [AnyCodingKey(intValue: index)], state: state, userInfo: userInfo)
    }

    /// Scalars directly, anything else through its `init(from:)`, whose `DecodingError`s
    /// become `TOMLError`s at this value's line.
    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if let direct = try scalar(T.self) { return direct }
        do {
            return try T(from: self)
        } catch let error as DecodingError {
            throw convert(error)
        }
    }

    private func scalar<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is String.Type: return try string() as? T
        case is Bool.Type: return try bool() as? T
        case is Double.Type: return try double() as? T
        case is Float.Type: return try Float(double()) as? T
        case is Int.Type: return try integer(Int.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        // The accessors' wording for the commonest array, element errors included.
        case is [String].Type: return try strings() as? T
        default: return nil
        }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw location.mismatch("a string", found: value) }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw location.mismatch("a boolean (true or false)", found: value) }
        return b
    }

    /// Accepts integers too, since `timeout = 5` plainly means 5.0.
    func double() throws -> Double {
        switch value {
        case .float(let d): return d
        case .integer(let i): return Double(i)
        default: throw location.mismatch("a number", found: value)
        }
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .integer(let i) = value else { throw location.mismatch("an integer", found: value) }
        guard let result = I(exactly: i) else {
            throw location.error("integer \(i) does not fit in \(I.isSigned ? "" : "unsigned ")\(I.bitWidth) bits")
        }
        return result
    }

    func strings() throws -> [String] {
        guard case .array(let elements) = value else { throw location.mismatch("an array of strings", found: value) }
        return try elements.enumerated().map { index, element in
            guard case .string(let s) = element else {
                throw location.element(index).error("expected an array of strings, found \(element.typeNameWithArticle)")
            }
            return s
        }
    }

    /// A keyed `dataCorruptedError(forKey:)` names a key one level below this value:
    /// point at that key's line. Anything else points at this value.
    func convert(_ error: DecodingError) -> TOMLError {
        let message: String
        let context: DecodingError.Context?
        switch error {
        case .dataCorrupted(let c): message = c.debugDescription; context = c
        case .typeMismatch(_, let c): message = c.debugDescription; context = c
        case .valueNotFound(_, let c): message = c.debugDescription; context = c
        case .keyNotFound(let key, _):
            if case .table(let t) = value { return t.error("missing required key", key: TOMLDecoder.keyName(key.stringValue)) }
            message = "missing required key '\(TOMLDecoder.keyName(key.stringValue))'"; context = nil
        @unknown default: message = "\(error)"; context = nil
        }
        if let context, context.codingPath.count == codingPath.count + 1, let last = context.codingPath.last,
           case .table(let t) = value {
            let name = t[last.stringValue] != nil ? last.stringValue : TOMLDecoder.keyName(last.stringValue)
            if t[name] != nil { return t.error(message, key: name) }
        }
        return location.error(message)
    }
}
