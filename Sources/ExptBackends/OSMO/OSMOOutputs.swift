import Foundation
import ExptModel

/// An output a workflow file declares (a task's `outputs:`): where its results go.
/// Forms (src/utils/job/task.py `OutputType`): `- url: s3://…` (every version), and before 6.4
/// `- dataset: {name: N, path: P}` and `- update_dataset: {name: N}` (6.3.1 `DatasetInputOutput`,
/// `UpdateDatasetOutput`; cookbook/dnn_training/single_node/train.yaml).
public struct OSMOOutput: Sendable, Equatable {
    public enum Kind: String, Sendable { case url, dataset, updateDataset = "update_dataset" }
    public var kind: Kind
    /// The URL, or the dataset's name (`name:tag` allowed), with `{{ var }}` filled in where known.
    public var value: String
    /// The task declaring it, when found.
    public var task: String?
    /// A dataset's `path` inside the task's output directory.
    public var path: String?

    public init(kind: Kind, value: String, task: String? = nil, path: String? = nil) {
        self.kind = kind; self.value = value; self.task = task; self.path = path
    }
}

/// Reads the outputs out of the workflow YAML as written, without a YAML library: block and
/// flow mappings of the documented forms. Values come from `default-values:` then `values`
/// (the `--set` ones); an unknown `{{ var }}` stays as written. Both branches of a Jinja
/// `{% if %}` are read (the file is not rendered), so a conditional output is listed.
public enum OSMOOutputs {
    public static func declared(in yaml: String, values: [String: String] = [:]) -> [OSMOOutput] {
        let lines = yaml.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("{%") }
        let known = defaults(lines).merging(values) { _, b in b }
        var out: [OSMOOutput] = []
        var task: (column: Int, name: String)?    // the last `- name: X` item and its key column
        var section: Section?                      // an open `outputs:`
        var pending: Pending?                      // an open `- dataset:` / `- update_dataset:`
        for raw in lines {
            let line = stripComment(raw)
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            let column = line.prefix(while: { $0 == " " }).count
            let isItem = text.hasPrefix("- ")
            let body = isItem ? text.dropFirst(2).trimmingCharacters(in: .whitespaces) : text
            let keyColumn = isItem ? column + 2 + text.dropFirst(2).prefix(while: { $0 == " " }).count : column
            // a line at or left of the open dataset's key ends it
            if let p = pending, keyColumn <= p.column {
                if let o = p.output { out.append(o) }
                pending = nil
            }
            // a line left of `outputs:`, or another key at its column, ends the section
            if let s = section, column < s.column || (!isItem && column == s.column) { section = nil }
            if isItem, let name = value(of: "name", in: body) { task = (keyColumn, fill(name, known)) }
            if body == "outputs:" {
                section = Section(column: keyColumn, owner: task.flatMap { $0.column == keyColumn ? $0.name : nil })
                continue
            }
            if var p = pending {
                p.absorb(body, known)
                pending = p
                continue
            }
            guard var s = section, isItem, column >= s.column, column == (s.itemColumn ?? column) else { continue }
            s.itemColumn = column
            section = s
            if let url = value(of: "url", in: body) {
                out.append(OSMOOutput(kind: .url, value: fill(url, known), task: s.owner))
            } else if let kind = [OSMOOutput.Kind.dataset, .updateDataset].first(where: { body.hasPrefix($0.rawValue + ":") }) {
                var p = Pending(kind: kind, column: keyColumn, task: s.owner)
                let rest = body.dropFirst(kind.rawValue.count + 1).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("{") && rest.hasSuffix("}") { p.absorb(String(rest.dropFirst().dropLast()), known) }
                pending = p
            }
        }
        if let o = pending?.output { out.append(o) }
        return out
    }

    struct Section {
        var column: Int
        var owner: String?
        /// The column of its `- ` items (the first one's).
        var itemColumn: Int?
    }

    struct Pending {
        var kind: OSMOOutput.Kind
        var column: Int
        var task: String?
        var name: String?
        var path: String?
        var output: OSMOOutput? { name.map { OSMOOutput(kind: kind, value: $0, task: task, path: path) } }

        /// `name: x` / `path: y` lines, or `name: x, path: y` of a flow mapping.
        mutating func absorb(_ body: String, _ known: [String: String]) {
            for part in body.split(separator: ",") {
                let p = part.trimmingCharacters(in: .whitespaces)
                if let n = OSMOOutputs.value(of: "name", in: p) { name = OSMOOutputs.fill(n, known) }
                if let v = OSMOOutputs.value(of: "path", in: p) { path = OSMOOutputs.fill(v, known) }
            }
        }
    }

    /// The scalar of `key: value` (quotes removed), nil for another key or an empty value.
    static func value(of key: String, in body: String) -> String? {
        guard body.hasPrefix(key + ":") else { return nil }
        var v = body.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        if v.count >= 2, let f = v.first, f == "\"" || f == "'", v.last == f { v = String(v.dropFirst().dropLast()) }
        return v.isEmpty ? nil : v
    }

    /// `default-values:` at the top level: `key: value` lines below it.
    static func defaults(_ lines: [String]) -> [String: String] {
        var out: [String: String] = [:]
        var inside = false
        for raw in lines {
            let line = stripComment(raw)
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            if !line.hasPrefix(" ") { inside = line.hasPrefix("default-values:"); continue }
            guard inside, let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if let v = value(of: key, in: line.trimmingCharacters(in: .whitespaces)) { out[key] = v }
        }
        return out
    }

    /// `{{ var }}` → its value where known.
    static func fill(_ text: String, _ known: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            result += rest[..<open.lowerBound]
            result += known[name] ?? String(rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// The line without a ` # comment` (a `#` inside quotes or a URL fragment without a space
    /// before it is kept).
    static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (i, c) in zip(line.indices, line) {
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "#", previous == " " { return String(line[..<i]) }
            previous = c
        }
        return line
    }
}
