/// What occupies a key, described without holding a reference to it. The
/// tree rules inspect this first and only then take the child out of its
/// parent, so the child is uniquely referenced while it is modified and
/// copy-on-write never copies it (which made large files quadratic).
enum Slot {
    case empty
    case table(origin: TOMLTable.Origin, line: Int)
    case arrayOfTables
    case other(description: String)
}

extension TOMLTable {
    func slot(_ name: String) -> Slot {
        switch values[name] {
        case nil: return .empty
        case .table(let t)?: return .table(origin: t.origin, line: t.line)
        case .array? where arraysOfTables.contains(name): return .arrayOfTables
        case .array?: return .other(description: "a static array")
        case let v?: return .other(description: v.typeNameWithArticle)
        }
    }

    /// Removes and returns the child table; the caller must put it back.
    mutating func takeTable(_ name: String) -> TOMLTable {
        TOMLTable.tablePayload(values.removeValue(forKey: name)) ?? TOMLTable(path: path + [name], file: file)
    }

    /// Removes and returns the array's elements; the caller must put them back.
    mutating func takeArray(_ name: String) -> [TOMLValue] {
        guard case .array(let elements)? = values.removeValue(forKey: name) else { return [] }
        return elements
    }

    static func tablePayload(_ value: TOMLValue?) -> TOMLTable? {
        guard case .table(let t)? = value else { return nil }
        return t
    }
}

/// TOML's "each table is defined once" rules, applied while building the tree.
extension Parser {
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

    /// Applies a `[path]` or `[[path]]` header to the tree.
    static func defineTable(_ path: [String], isArray: Bool, in root: inout TOMLTable,
                            line: Int, file: String?) throws {
        let display = TOMLTable.dotted(path)
        let name = path[path.count - 1]
        try walk(&root, Array(path.dropLast()), mode: .header, line: line, file: file) { parent in
            func fail(_ message: String) -> TOMLError {
                TOMLError(file: file, line: line, key: display, message: message)
            }
            let previousLine = parent.keyLines[name] ?? 0
            var fresh = TOMLTable(path: parent.path + [name], line: line, file: file)
            fresh.origin = .header
            switch (parent.slot(name), isArray) {
            case (.empty, false):
                parent.set(name, .table(fresh), line: line)
            case (.empty, true):
                parent.set(name, .array([.table(fresh)]), line: line)
                parent.arraysOfTables.insert(name)
            case (.arrayOfTables, true):
                var elements = parent.takeArray(name)
                elements.append(.table(fresh))
                parent.values[name] = .array(elements)
            case (.table(origin: .implicit, _), false):
                var table = parent.takeTable(name)
                table.origin = .header
                table.line = line
                parent.values[name] = .table(table)
                parent.keyLines[name] = line
            case (.table(origin: .header, let first), false):
                throw fail("table [\(display)] is already defined on line \(first)")
            case (.table(origin: .dotted, let first), false):
                throw fail("table [\(display)] was already defined by dotted keys on line \(first)")
            case (.table(origin: .inline, let first), false):
                throw fail("table [\(display)] was already defined as an inline table on line \(first)")
            case (.table, true):
                throw fail("cannot define [[\(display)]]: the key is already a table (line \(previousLine))")
            case (.arrayOfTables, false):
                throw fail("cannot define table [\(display)]: the key is already an array of tables (line \(previousLine))")
            case (.other(let what), _):
                let header = isArray ? "[[\(display)]]" : "table [\(display)]"
                throw fail("cannot define \(header): the key is already \(what) (line \(previousLine))")
            }
        }
    }

    /// Sets a possibly dotted key, creating the intermediate tables it implies.
    static func insert(_ value: TOMLValue, key: [String], into table: inout TOMLTable,
                       line: Int, file: String?) throws {
        let name = key[key.count - 1]
        try walk(&table, Array(key.dropLast()), mode: .dotted, line: line, file: file) { target in
            if target.values[name] != nil {
                let previous = target.keyLines[name].map { " (first defined on line \($0))" } ?? ""
                throw TOMLError(file: file, line: line, key: target.dottedKey(name),
                                message: "duplicate key\(previous)")
            }
            target.set(name, value, line: line)
        }
    }

    /// Follows `path` from `table`, creating missing tables, and runs `body`
    /// on the table at the end.
    static func walk(_ table: inout TOMLTable, _ path: [String], mode: WalkMode, line: Int, file: String?,
                     _ body: (inout TOMLTable) throws -> Void) throws {
        try walkStep(&table, path[...], mode: mode, line: line, file: file, body)
    }

    private static func walkStep(_ table: inout TOMLTable, _ path: ArraySlice<String>,
                                 mode: WalkMode, line: Int, file: String?,
                                 _ body: (inout TOMLTable) throws -> Void) throws {
        guard let name = path.first else { return try body(&table) }
        let rest = path.dropFirst()
        switch table.slot(name) {
        case .empty:
            var child = TOMLTable(path: table.path + [name], line: line, file: file)
            child.origin = mode == .dotted ? .dotted : .implicit
            try walkStep(&child, rest, mode: mode, line: line, file: file, body)
            table.set(name, .table(child), line: line)
        case .table(let origin, let childLine):
            if mode != .section && origin == .inline {
                let display = table.dottedKey(name)
                throw TOMLError(file: file, line: line, key: display,
                                message: "cannot add to inline table '\(display)' defined on line \(childLine); inline tables are complete once closed")
            }
            if mode == .dotted && origin == .header {
                let display = table.dottedKey(name)
                throw TOMLError(file: file, line: line, key: display,
                                message: "cannot add to table [\(display)] (defined on line \(childLine)) with dotted keys from another section")
            }
            var child = table.takeTable(name)
            if mode == .dotted && origin == .implicit { child.origin = .dotted }
            defer { table.values[name] = .table(child) }
            try walkStep(&child, rest, mode: mode, line: line, file: file, body)
        case .arrayOfTables where mode != .dotted:
            var elements = table.takeArray(name)
            var last = TOMLTable.tablePayload(elements.popLast()) ?? TOMLTable(path: table.path + [name], file: file)
            defer {
                elements.append(.table(last))
                table.values[name] = .array(elements)
            }
            try walkStep(&last, rest, mode: mode, line: line, file: file, body)
        case .arrayOfTables:
            let display = table.dottedKey(name)
            throw TOMLError(file: file, line: line, key: display,
                            message: "cannot use '\(display)' as a table: it is already an array of tables (line \(table.keyLines[name] ?? 0))")
        case .other(let what):
            let display = table.dottedKey(name)
            throw TOMLError(file: file, line: line, key: display,
                            message: "cannot use '\(display)' as a table: it is already \(what) (line \(table.keyLines[name] ?? 0))")
        }
    }
}
