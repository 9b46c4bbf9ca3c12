import Foundation
import ExptTemplates

/// Finds and renders templates. A repository overrides any shipped template by putting a file
/// of the same name in `.expt/templates/`.
public struct Templates {
    public var overrideDir: String?

    public init(repoRoot: String?) {
        overrideDir = repoRoot.map { $0 + "/.expt/templates" }
    }

    /// The template's text: the repo override if present, else the one shipped in the binary.
    public func text(_ name: String) throws -> String {
        if let dir = overrideDir {
            let path = dir + "/" + name
            if FileManager.default.fileExists(atPath: path) {
                do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw ExptError(.invalidInput, "cannot read the template override \(path): \(error.localizedDescription)")
                }
            }
        }
        guard let t = EmbeddedTemplates.text(name) else {
            throw ExptError(.failure, "no template named '\(name)' is shipped with expt")
        }
        return t
    }

    /// Renders `{{key}}` placeholders. An unknown placeholder is an error, so a typo in an
    /// override never leaks into a committed doc.
    public func render(_ name: String, _ values: [String: String]) throws -> String {
        try Templates.render(text(name), values, templateName: name)
    }

    public static func render(_ text: String, _ values: [String: String], templateName: String = "template") throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ExptError(.invalidInput, "template \(templateName): '{{' without a closing '}}'")
            }
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let v = values[key] else {
                throw ExptError(.invalidInput, "template \(templateName): unknown placeholder {{\(key)}}",
                                hint: "known placeholders: \(values.keys.sorted().joined(separator: ", "))")
            }
            out += v
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
