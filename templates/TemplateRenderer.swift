/// The one `{{name}}` renderer (stdlib only). The language is deliberately tiny (a template
/// engine would be a dependency for ~50 lines): `{{name}}` is replaced by its value (blanks
/// around the name are ignored); a value is inserted as is, never scanned again. What happens
/// when a name has no value is the caller's choice:
/// - `.error`: the render fails, so a typo in a repo's override never leaks into a committed doc
///   (branch-doc.md, pr-comment.md). A `{{` without a closing `}}` is an error too.
/// - `.dropLine`: the line using it is left out, which is how optional `#SBATCH` directives
///   disappear (slurm.sbatch). A line starting with `{{?name}}` is kept, without the marker, only
///   when `name` has a value (the value itself is not inserted). A `{{` without a closing `}}`
///   is kept as text. This mode cannot fail.
public enum TemplateRenderer {
    public enum MissingValue: Sendable { case error, dropLine }

    public static func render(_ text: String, _ values: [String: String], missing: MissingValue,
                              templateName: String) throws -> String {
        switch missing {
        case .dropLine:
            return renderDroppingLines(text, values)
        case .error:
            switch fill(Substring(text), values) {
            case .filled(let out):
                return out
            case .unclosed:
                throw TemplateError("template \(templateName): '{{' without a closing '}}'")
            case .unknown(let name):
                throw TemplateError("template \(templateName): unknown placeholder {{\(name)}}",
                                    hint: "known placeholders: \(values.keys.sorted().joined(separator: ", "))")
            }
        }
    }

    /// `.dropLine` mode, for callers that want no `try` for a render that cannot fail.
    public static func renderDroppingLines(_ text: String, _ values: [String: String]) -> String {
        var out: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var body = line
            if body.hasPrefix("{{?"), let close = find("}", in: body) {
                // The name is taken as written (not trimmed), as the sbatch renderer always did.
                let name = String(body[body.index(body.startIndex, offsetBy: 3)..<close.lowerBound])
                guard values[name] != nil else { continue }
                body = body[close.upperBound...]
            }
            switch fill(body, values) {
            case .filled(let filled), .unclosed(let filled): out.append(filled)
            case .unknown: continue
            }
        }
        return out.joined(separator: "\n")
    }

    private enum Fill {
        case filled(String)
        /// A `{{` had no `}}` after it: the text so far, filled up to that `{{`, the rest as is.
        case unclosed(String)
        /// The first name without a value.
        case unknown(String)
    }

    /// Replaces every `{{name}}` in `text`, stopping at the first problem.
    private static func fill(_ text: Substring, _ values: [String: String]) -> Fill {
        var out = ""
        var rest = text
        while let open = find("{", in: rest) {
            guard let close = find("}", in: rest[open.upperBound...]) else {
                out.append(contentsOf: rest)
                return .unclosed(out)
            }
            out.append(contentsOf: rest[..<open.lowerBound])
            let name = trimmingBlanks(rest[open.upperBound..<close.lowerBound])
            guard let value = values[name] else { return .unknown(name) }
            out.append(contentsOf: value)
            rest = rest[close.upperBound...]
        }
        out.append(contentsOf: rest)
        return .filled(out)
    }

    /// The first `cc` (two of `c`) in `s`, leftmost first.
    private static func find(_ c: Character, in s: Substring) -> Range<Substring.Index>? {
        var i = s.startIndex
        while i < s.endIndex {
            let next = s.index(after: i)
            if s[i] == c, next < s.endIndex, s[next] == c { return i..<s.index(after: next) }
            i = next
        }
        return nil
    }

    /// `s` without leading and trailing tabs and space separators (Unicode category Zs): what
    /// Foundation's `trimmingCharacters(in: .whitespaces)` removed before, without Foundation.
    private static func trimmingBlanks(_ s: Substring) -> String {
        func blank(_ u: Unicode.Scalar) -> Bool { u == "\t" || u.properties.generalCategory == .spaceSeparator }
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !blank($0) }),
              let last = scalars.lastIndex(where: { !blank($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

/// A template that cannot be rendered. ExptModel makes it a `UserFacingError` (invalid input):
/// the text is the repo's override or a caller's values, not expt's state.
public struct TemplateError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message; self.hint = hint
    }

    /// As `UserFacingError` prints itself (declared here, so ExptModel's conformance adds
    /// no retroactive one to a stdlib protocol).
    public var description: String { hint.map { "\(message)\nhint: \($0)" } ?? message }
}
