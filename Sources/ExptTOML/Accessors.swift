/// Typed lookups for configuration loading. A missing key is `nil` (callers
/// decide on defaults); a key of the wrong type throws an error naming the
/// file, line and full dotted key, because "expected a string" alone is
/// useless in a file with several `mem` keys.
///
/// `key` is a single key of this table, not a dotted path; use `table(_:)`
/// to descend.
extension TOMLTable {
    public func string(_ key: String) throws -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let s) = value else { throw mismatch(key, expected: "a string", found: value) }
        return s
    }

    /// Integers only: silently truncating `2.5` cpus would hide a mistake.
    public func int(_ key: String) throws -> Int? {
        guard let value = self[key] else { return nil }
        guard case .integer(let i) = value else { throw mismatch(key, expected: "an integer", found: value) }
        guard let result = Int(exactly: i) else {
            throw error("integer \(i) does not fit in \(Int.bitWidth) bits", key: key)
        }
        return result
    }

    /// Accepts integers too, since `timeout = 5` plainly means 5.0.
    public func double(_ key: String) throws -> Double? {
        guard let value = self[key] else { return nil }
        switch value {
        case .float(let d): return d
        case .integer(let i): return Double(i)
        default: throw mismatch(key, expected: "a number", found: value)
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = self[key] else { return nil }
        guard case .bool(let b) = value else { throw mismatch(key, expected: "a boolean (true or false)", found: value) }
        return b
    }

    public func stringArray(_ key: String) throws -> [String]? {
        guard let value = self[key] else { return nil }
        guard case .array(let elements) = value else {
            throw mismatch(key, expected: "an array of strings", found: value)
        }
        return try elements.enumerated().map { index, element in
            guard case .string(let s) = element else {
                throw error("expected an array of strings, found \(element.typeNameWithArticle) at index \(index)",
                            key: key)
            }
            return s
        }
    }

    public func table(_ key: String) throws -> TOMLTable? {
        guard let value = self[key] else { return nil }
        guard case .table(let t) = value else { throw mismatch(key, expected: "a table", found: value) }
        return t
    }

    /// A table used as a string map (e.g. `[env]`); the error for a bad entry
    /// names that entry's own line and key rather than the table's.
    public func stringTable(_ key: String) throws -> [String: String]? {
        guard let t = try table(key) else { return nil }
        var result: [String: String] = [:]
        for k in t.keys {
            result[k] = try t.string(k)
        }
        return result
    }

    /// The tables of an array of tables (`[[name]]`), or of an inline array of tables.
    public func tableArray(_ key: String) throws -> [TOMLTable]? {
        guard let value = self[key] else { return nil }
        guard case .array(let elements) = value else {
            throw mismatch(key, expected: "an array of tables", found: value)
        }
        return try elements.enumerated().map { index, element in
            guard case .table(let t) = element else {
                throw error("expected an array of tables, found \(element.typeNameWithArticle) at index \(index)",
                            key: key)
            }
            return t
        }
    }

    /// Throws for the first key not in `allowed`, saying the file, line,
    /// dotted key, and "did you mean 'x'?" when a close allowed key exists
    /// (edit distance <= 2). Typos in optional keys would otherwise be
    /// silently ignored, which is the worst failure mode for a config file.
    public func checkKeys(allowed: Set<String>) throws {
        for key in keys where !allowed.contains(key) {
            var message = "unknown key"
            if let suggestion = TOMLTable.closestKey(to: key, in: allowed) {
                message += "; did you mean '\(suggestion)'?"
            } else if !allowed.isEmpty, allowed.count <= 12 {
                message += "; expected one of: " + allowed.sorted().joined(separator: ", ")
            }
            throw error(message, key: key)
        }
    }

    private func mismatch(_ key: String, expected: String, found: TOMLValue) -> TOMLError {
        let what = arraysOfTables.contains(key) ? "an array of tables" : found.typeNameWithArticle
        return error("expected \(expected), found \(what)", key: key)
    }

    /// Closest candidate within edit distance 2, ignoring case. The distance
    /// must also be below the longer key's length: otherwise every two-letter
    /// key would be "close" to every other (`ab` suggesting `cd`).
    static func closestKey(to key: String, in candidates: Set<String>) -> String? {
        let typed = Array(key.lowercased().unicodeScalars)
        var best: (distance: Int, key: String)?
        for candidate in candidates.sorted() {
            let c = Array(candidate.lowercased().unicodeScalars)
            let d = editDistance(typed, c, limit: 2)
            guard d <= 2, d < max(typed.count, c.count) else { continue }
            if best == nil || d < best!.distance { best = (d, candidate) }
        }
        return best?.key
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit
    /// (the commonest typo). Returns `limit + 1` early once it is exceeded.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var v = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    v = min(v, previous2[j - 2] + 1)
                }
                current[j] = v
                rowMin = min(rowMin, v)
            }
            if rowMin > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
