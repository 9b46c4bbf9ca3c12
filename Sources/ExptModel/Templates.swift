import Foundation
import ExptTemplates

/// Finds and renders templates: the one place that looks up a repository's override. A
/// repository overrides any shipped template by putting a file of the same name in
/// `.expt/templates/`; rendering is `TemplateRenderer`'s (ExptTemplates).
public struct Templates: Sendable {
    public var overrideDir: String?

    /// `repoRoot` nil: only the templates shipped in the binary.
    public init(repoRoot: String?) {
        overrideDir = repoRoot.map { $0 + "/.expt/templates" }
    }

    /// The template's text: the repo override if present, else the one shipped in the binary.
    /// An override that exists but cannot be read is an error, never silently the shipped one.
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
        try render(name, values, missing: .error)
    }

    /// Renders the template `name` with the given rule for names without a value.
    public func render(_ name: String, _ values: [String: String],
                       missing: TemplateRenderer.MissingValue) throws -> String {
        try TemplateRenderer.render(text(name), values, missing: missing, templateName: name)
    }

    /// Renders `text` strictly (an unknown placeholder is an error).
    public static func render(_ text: String, _ values: [String: String], templateName: String = "template") throws -> String {
        try TemplateRenderer.render(text, values, missing: .error, templateName: templateName)
    }
}

/// A template error is the user's to fix (their override, or their values): invalid input.
extension TemplateError: UserFacingError {
    public var kind: ErrorKind { .invalidInput }
}
