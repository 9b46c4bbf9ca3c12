/// A parsed TOML value. Date-times stay as their source text because `expt`
/// only ever passes them through, and keeping the text avoids pulling in a
/// calendar library (and guessing at time zones for local date-times).
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case datetime(String)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML type name, for use in messages.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .datetime: return "datetime"
        case .array: return "array"
        case .table: return "table"
        }
    }

    /// The type name with its article ("an integer"), so messages read naturally.
    public var typeNameWithArticle: String {
        switch self {
        case .integer, .array: return "an \(typeName)"
        default: return "a \(typeName)"
        }
    }
}

/// A TOML table that remembers where each of its keys came from, so callers
/// validating configuration can point at the offending file, line and key.
///
/// Equality compares contents only (keys and values); source positions and
/// key order are deliberately ignored so tests and callers can compare a
/// parsed table against one built in code.
public struct TOMLTable: Equatable, Sendable {
    /// How the table came into existence. TOML forbids defining a table twice,
    /// but whether a second mention is a redefinition depends on how the first
    /// one happened, so the parser needs to remember it.
    enum Origin: Sendable {
        /// Created only as the parent of a `[a.b]` header; may still be defined later.
        case implicit
        /// Defined by its own `[header]` or `[[header]]`.
        case header
        /// Created by a dotted key such as `a.b = 1`.
        case dotted
        /// Written as `{ ... }`; inline tables are sealed once closed.
        case inline
    }

    /// Keys in the order they first appeared in the source.
    public private(set) var keys: [String] = []
    /// Line of this table's `[header]` (or of the key that created it); 0 for the root.
    public internal(set) var line: Int
    /// Full key path from the document root, e.g. `["profiles", "highmem"]`.
    /// Tables inside an array of tables share the array's path.
    public internal(set) var path: [String]
    /// File name given to the parser, used only for messages.
    public internal(set) var file: String?

    var values: [String: TOMLValue] = [:]
    var keyLines: [String: Int] = [:]
    /// Per-key file, only for keys that came from another file than `file` (see `overlaid(by:)`).
    var keyFiles: [String: String] = [:]
    var origin: Origin = .header
    /// Keys holding arrays created with `[[...]]`; only those may be appended to.
    var arraysOfTables: Set<String> = []

    public init(path: [String] = [], line: Int = 0, file: String? = nil) {
        self.path = path
        self.line = line
        self.file = file
    }

    public subscript(key: String) -> TOMLValue? { values[key] }

    /// 1-based line where `key` was defined, or nil if the table has no such key.
    public func line(of key: String) -> Int? { keyLines[key] }

    /// File `key` was defined in: differs from `file` for keys layered in by `overlaid(by:)`.
    public func file(of key: String) -> String? { keyFiles[key] ?? file }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Adds or replaces a value; for building tables in code (defaults, tests).
    public mutating func set(_ key: String, _ value: TOMLValue, line: Int = 0) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
        keyLines[key] = line
        keyFiles[key] = nil
        arraysOfTables.remove(key)
    }

    /// `key` joined onto this table's path, quoting parts that are not bare
    /// keys, so messages show exactly what the user would type.
    public func dottedKey(_ key: String) -> String {
        TOMLTable.dotted(path + [key])
    }

    /// An error located at `key` (or at the table header when the key is
    /// absent, e.g. for a missing required key). Lets callers report their own
    /// validation failures in the same format as parse errors.
    public func error(_ message: String, key: String) -> TOMLError {
        TOMLError(file: file(of: key), line: line(of: key) ?? line, key: dottedKey(key), message: message)
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.values == rhs.values
    }

    static func dotted(_ parts: [String]) -> String {
        parts.map { isBareKey($0) ? $0 : quoted($0) }.joined(separator: ".")
    }

    static func isBareKey(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy(isBareKeyScalar)
    }

    static func isBareKeyScalar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    let hex = String(c.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

/// A parse or validation failure, located precisely enough for a user to fix
/// the file without guessing.
public struct TOMLError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String?
    /// 1-based line; 0 when the problem is not tied to a line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars, when known.
    public var column: Int?
    /// Full dotted key the problem concerns, when there is one.
    public var key: String?
    public var message: String

    public init(file: String? = nil, line: Int, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `expt.toml:12: key 'resources.mem': expected a string, found an integer`
    public var description: String {
        var location: String
        if let file {
            location = file
            if line > 0 { location += ":\(line)" }
            if line > 0, let column { location += ":\(column)" }
        } else {
            location = line > 0 ? "line \(line)" : "<toml>"
            if line > 0, let column { location += ", column \(column)" }
        }
        if let key { return "\(location): key '\(key)': \(message)" }
        return "\(location): \(message)"
    }
}
