/// How a table came to be defined in its document, for tools that edit the
/// source text: each form needs a different edit (or none is safe).
public enum TOMLDefinition: Sendable, Equatable {
    /// `[name]` or `[[name]]`; `line` is the header's line.
    case header
    /// `name.key = value` lines; `line` is the first such line.
    case dottedKeys
    /// `name = { ... }` on one line; sealed, so keys cannot be added by new lines.
    case inline
    /// Only the parent of a deeper header such as `[name.sub]`; never written itself.
    case implicit
}

extension TOMLTable {
    public var definition: TOMLDefinition {
        switch origin {
        case .header: return .header
        case .dotted: return .dottedKeys
        case .inline: return .inline
        case .implicit: return .implicit
        }
    }

    /// This table with `other`'s keys layered on top, key by key: tables present in
    /// both are merged recursively, any other value of `other` replaces this one's.
    /// Every key keeps the file and line it came from, so an error about a merged key
    /// names the file that actually set it.
    public func overlaid(by other: TOMLTable) -> TOMLTable {
        var result = self
        for key in other.keys {
            guard let theirs = other.values[key] else { continue }
            if case .table(let mine)? = result.values[key], case .table(let table) = theirs,
               !other.arraysOfTables.contains(key), !result.arraysOfTables.contains(key) {
                // The key itself stays where this table first defined it.
                result.values[key] = .table(mine.overlaid(by: table))
                continue
            }
            // A table taken whole keeps its own `file` (and any per-key files inside it).
            result.set(key, theirs, line: other.line(of: key) ?? 0)
            if let file = other.file(of: key), file != result.file { result.keyFiles[key] = file }
            if other.arraysOfTables.contains(key) { result.arraysOfTables.insert(key) }
        }
        return result
    }
}
