/// Entry point for parsing TOML 1.0 documents.
public enum TOML {
    /// Parses `text`. `file` is only used to label errors and tables.
    /// Throws `TOMLError` for any invalid document; never traps.
    public static func parse(_ text: String, file: String? = nil) throws -> TOMLTable {
        var parser = Parser(text, file: file)
        return try parser.parseDocument()
    }
}

/// Builds the table tree while enforcing TOML's "define each table once"
/// rules, which are what make most real-world TOML errors detectable.
struct Parser {
    /// Deeply nested arrays or inline tables would otherwise recurse until the
    /// stack overflows; no sane configuration comes anywhere near this.
    static let maxDepth = 100

    var scanner: Scanner
    var root: TOMLTable
    /// Path of the section that `key = value` lines currently go into.
    var section: [String] = []

    init(_ text: String, file: String?) {
        scanner = Scanner(text, file: file)
        root = TOMLTable(path: [], line: 0, file: file)
    }

    mutating func parseDocument() throws -> TOMLTable {
        while true {
            scanner.skipWhitespace()
            guard let c = scanner.peek() else { break }
            if c == "#" || scanner.atNewline {
                try expectLineEnd(after: "")
            } else if c == "[" {
                try parseHeader()
                try expectLineEnd(after: " after the table header")
            } else {
                try parseKeyValue()
                try expectLineEnd(after: " after the value")
            }
        }
        return root
    }

    /// Everything after a header or value must be whitespace, a comment, then a newline.
    private mutating func expectLineEnd(after context: String) throws {
        scanner.skipWhitespace()
        try scanner.skipComment()
        if scanner.atEnd || scanner.consumeNewline() { return }
        throw scanner.error("unexpected \(scanner.describeCurrent()); expected a newline or comment\(context)")
    }

    // MARK: Headers

    private mutating func parseHeader() throws {
        let line = scanner.line, column = scanner.column
        scanner.advance()
        let isArray = scanner.peek() == "["
        if isArray { scanner.advance() }
        let path = try scanner.parseKey()
        guard path.count <= Parser.maxDepth else {
            throw scanner.error("table header nests too deeply", line: line, column: column)
        }
        let close = isArray ? "]]" : "]"
        guard scanner.lookingAt(close) else {
            throw scanner.error("expected '\(close)' to close the table header, found \(scanner.describeCurrent())")
        }
        scanner.advance(close.count)
        try Parser.defineTable(path, isArray: isArray, in: &root, line: line, file: scanner.file)
        section = path
    }

    // MARK: Key/value pairs

    private mutating func parseKeyValue() throws {
        let line = scanner.line
        let key = try scanner.parseKey()
        let fullKey = section + key
        try expectEquals(key: fullKey)
        let value = try parseValue(path: fullKey, depth: key.count)
        let file = scanner.file
        try Parser.walk(&root, section, mode: .section, line: line, file: file) { table in
            try Parser.insert(value, key: key, into: &table, line: line, file: file)
        }
    }

    private mutating func expectEquals(key: [String]) throws {
        scanner.skipWhitespace()
        guard scanner.peek() == "=" else {
            throw scanner.error("expected '=' after the key, found \(scanner.describeCurrent())",
                                key: TOMLTable.dotted(key))
        }
        scanner.advance()
        scanner.skipWhitespace()
    }

    // MARK: Values

    /// Parses a value, labelling any error with the key being assigned so a
    /// bad number or escape says which setting it belongs to.
    private mutating func parseValue(path: [String], depth: Int) throws -> TOMLValue {
        do {
            return try parseUnlabelledValue(path: path, depth: depth)
        } catch var error as TOMLError {
            if error.key == nil { error.key = TOMLTable.dotted(path) }
            throw error
        }
    }

    private mutating func parseUnlabelledValue(path: [String], depth: Int) throws -> TOMLValue {
        guard depth <= Parser.maxDepth else {
            throw scanner.error("value nests too deeply (more than \(Parser.maxDepth) levels)")
        }
        switch scanner.peek() {
        case "\""?, "'"?:
            return .string(try scanner.parseString())
        case "["?:
            return try parseArray(path: path, depth: depth)
        case "{"?:
            return try parseInlineTable(path: path, depth: depth)
        case nil:
            throw scanner.error("expected a value, found end of input")
        case let c? where scanner.atNewline || c == "#":
            throw scanner.error("expected a value, found \(scanner.describeCurrent())")
        default:
            return try scanner.parseBareValue()
        }
    }

    private mutating func parseArray(path: [String], depth: Int) throws -> TOMLValue {
        let line = scanner.line, column = scanner.column
        scanner.advance()
        var elements: [TOMLValue] = []
        while true {
            try scanner.skipTrivia()
            if scanner.peek() == "]" { break }
            if scanner.atEnd {
                throw scanner.error("unterminated array (opened at line \(line), column \(column))",
                                    line: line, column: column)
            }
            elements.append(try parseValue(path: path, depth: depth + 1))
            try scanner.skipTrivia()
            if scanner.peek() == "," {
                scanner.advance()
                continue
            }
            if scanner.peek() == "]" { break }
            if scanner.atEnd {
                throw scanner.error("unterminated array (opened at line \(line), column \(column))",
                                    line: line, column: column)
            }
            throw scanner.error("expected ',' or ']' after an array element, found \(scanner.describeCurrent())")
        }
        scanner.advance()
        return .array(elements)
    }

    private mutating func parseInlineTable(path: [String], depth: Int) throws -> TOMLValue {
        let line = scanner.line
        scanner.advance()
        var table = TOMLTable(path: path, line: line, file: scanner.file)
        table.origin = .inline
        scanner.skipWhitespace()
        if scanner.peek() == "}" {
            scanner.advance()
            return .table(table)
        }
        while true {
            scanner.skipWhitespace()
            if scanner.atNewline {
                throw scanner.error("newlines are not allowed inside an inline table (TOML 1.0); use a [table] section instead")
            }
            if scanner.peek() == "}" {
                throw scanner.error("trailing comma is not allowed in an inline table")
            }
            let keyLine = scanner.line
            let key = try scanner.parseKey()
            try expectEquals(key: path + key)
            let value = try parseValue(path: path + key, depth: depth + key.count)
            try Parser.insert(value, key: key, into: &table, line: keyLine, file: scanner.file)
            scanner.skipWhitespace()
            switch scanner.peek() {
            case ","?:
                scanner.advance()
            case "}"?:
                scanner.advance()
                return .table(table)
            case _ where scanner.atNewline:
                throw scanner.error("newlines are not allowed inside an inline table (TOML 1.0); use a [table] section instead")
            case nil:
                throw scanner.error("unterminated inline table (opened at line \(line))")
            default:
                throw scanner.error("expected ',' or '}' in an inline table, found \(scanner.describeCurrent())")
            }
        }
    }
}
