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
            if c == "#" {
                try scanner.skipComment()
            } else if scanner.atNewline {
                // handled by expectLineEnd below
            } else if c == "[" {
                try parseHeader()
            } else {
                try parseKeyValue()
            }
            try expectLineEnd()
        }
        return root
    }

    /// Everything after a header or value must be whitespace, a comment, then a newline.
    private mutating func expectLineEnd() throws {
        scanner.skipWhitespace()
        try scanner.skipComment()
        if scanner.atEnd || scanner.consumeNewline() { return }
        throw scanner.error("unexpected \(scanner.describeCurrent()); expected a newline or comment after the value")
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
        let display = TOMLTable.dotted(path)
        let file = scanner.file
        try Parser.walk(&root, Array(path.dropLast()), mode: .header, line: line, file: file) { parent in
            let name = path[path.count - 1]
            let full = parent.path + [name]
            if isArray {
                try Parser.appendArrayTable(to: &parent, name, line: line, file: file, display: display)
                return
            }
            switch parent.values[name] {
            case nil:
                var table = TOMLTable(path: full, line: line, file: file)
                table.origin = .header
                parent.set(name, .table(table), line: line)
            case .table(var table)?:
                switch table.origin {
                case .implicit:
                    table.origin = .header
                    table.line = line
                    parent.values[name] = .table(table)
                    parent.keyLines[name] = line
                case .header:
                    throw TOMLError(file: file, line: line, key: display,
                                    message: "table [\(display)] is already defined on line \(table.line)")
                case .dotted:
                    throw TOMLError(file: file, line: line, key: display,
                                    message: "table [\(display)] was already defined by dotted keys on line \(table.line)")
                case .inline:
                    throw TOMLError(file: file, line: line, key: display,
                                    message: "table [\(display)] was already defined as an inline table on line \(table.line)")
                }
            case let other?:
                let what = parent.arraysOfTables.contains(name) ? "an array of tables" : other.typeNameWithArticle
                throw TOMLError(file: file, line: line, key: display,
                                message: "cannot define table [\(display)]: the key is already \(what) (line \(parent.keyLines[name] ?? 0))")
            }
        }
        section = path
    }

    private static func appendArrayTable(to parent: inout TOMLTable, _ name: String, line: Int,
                                         file: String?, display: String) throws {
        let table = TOMLTable(path: parent.path + [name], line: line, file: file)
        switch parent.values[name] {
        case nil:
            parent.set(name, .array([.table(table)]), line: line)
            parent.arraysOfTables.insert(name)
        case .array(var elements)? where parent.arraysOfTables.contains(name):
            parent.values[name] = nil  // keep `elements` uniquely referenced so appending does not copy
            elements.append(.table(table))
            parent.values[name] = .array(elements)
        case let other?:
            let what = other.typeName == "array" ? "a static array" : other.typeNameWithArticle
            throw TOMLError(file: file, line: line, key: display,
                            message: "cannot define [[\(display)]]: the key is already \(what) (line \(parent.keyLines[name] ?? 0))")
        }
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

    /// Sets a possibly dotted key, creating the intermediate tables it implies.
    static func insert(_ value: TOMLValue, key: [String], into table: inout TOMLTable,
                       line: Int, file: String?) throws {
        try walk(&table, Array(key.dropLast()), mode: .dotted, line: line, file: file) { target in
            let name = key[key.count - 1]
            if target.values[name] != nil {
                let previous = target.keyLines[name].map { " (first defined on line \($0))" } ?? ""
                throw TOMLError(file: file, line: line, key: target.dottedKey(name),
                                message: "duplicate key\(previous)")
            }
            target.set(name, value, line: line)
        }
    }

    // MARK: Walking the tree

    /// Why a path is being followed; each allows different kinds of existing tables.
    enum WalkMode {
        /// Re-entering the current `[section]`, which is known to exist.
        case section
        /// Parents of a `[header]` path: created implicitly, and may pass through
        /// the latest element of an array of tables.
        case header
        /// Parents of a dotted key: may not reopen tables defined elsewhere.
        case dotted
    }

    /// Follows `path` from `table`, creating missing tables, and runs `body`
    /// on the table at the end. Each table is taken out of its parent while
    /// it is modified so copy-on-write does not copy it.
    static func walk(_ table: inout TOMLTable, _ path: [String], mode: WalkMode, line: Int, file: String?,
                     _ body: (inout TOMLTable) throws -> Void) throws {
        var index = 0
        try walkStep(&table, path, &index, mode: mode, line: line, file: file, body)
    }

    private static func walkStep(_ table: inout TOMLTable, _ path: [String], _ index: inout Int,
                                 mode: WalkMode, line: Int, file: String?,
                                 _ body: (inout TOMLTable) throws -> Void) throws {
        guard index < path.count else { return try body(&table) }
        let name = path[index]
        index += 1
        let display = table.dottedKey(name)
        switch table.values[name] {
        case nil:
            var child = TOMLTable(path: table.path + [name], line: line, file: file)
            child.origin = mode == .dotted ? .dotted : .implicit
            try walkStep(&child, path, &index, mode: mode, line: line, file: file, body)
            table.set(name, .table(child), line: line)
        case .table(var child)?:
            if mode != .section {
                if child.origin == .inline {
                    throw TOMLError(file: file, line: line, key: display,
                                    message: "cannot add to inline table '\(display)' defined on line \(child.line); inline tables are complete once closed")
                }
                if mode == .dotted && child.origin == .header {
                    throw TOMLError(file: file, line: line, key: display,
                                    message: "cannot add to table [\(display)] (defined on line \(child.line)) with dotted keys from another section")
                }
                if mode == .dotted && child.origin == .implicit { child.origin = .dotted }
            }
            table.values[name] = nil
            defer { table.values[name] = .table(child) }
            try walkStep(&child, path, &index, mode: mode, line: line, file: file, body)
        case .array(var elements)? where mode != .dotted && table.arraysOfTables.contains(name):
            guard case .table(var last)? = elements.popLast() else { return }
            table.values[name] = nil
            defer {
                elements.append(.table(last))
                table.values[name] = .array(elements)
            }
            try walkStep(&last, path, &index, mode: mode, line: line, file: file, body)
        case let other?:
            let what = table.arraysOfTables.contains(name) ? "an array of tables" : other.typeNameWithArticle
            throw TOMLError(file: file, line: line, key: display,
                            message: "cannot use '\(display)' as a table: it is already \(what) (line \(table.keyLines[name] ?? 0))")
        }
    }

    // MARK: Values

    private mutating func parseValue(path: [String], depth: Int) throws -> TOMLValue {
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
            throw scanner.error("expected a value, found end of input", key: TOMLTable.dotted(path))
        case let c? where scanner.atNewline || c == "#":
            throw scanner.error("expected a value, found \(scanner.describeCurrent())", key: TOMLTable.dotted(path))
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
