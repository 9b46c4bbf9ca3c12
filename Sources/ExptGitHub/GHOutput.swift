import Foundation
import ExptModel

/// Reads gh's `--json` answers and, when one does not fit, says precisely what is wrong (which
/// field is missing, null or of another type, and where), instead of a generic "expected …".
/// gh omits nothing it was asked for (pkg/cmdutil/json_flags.go), so a missing field means a gh
/// that differs from the one expt is tested with, and the message is what that person needs.
enum GHOutput {
    /// Decodes `result.stdout` as `T`; `name` is the subcommand for messages ("gh pr list").
    static func decode<T: Decodable>(_ type: T.Type, from result: ProcessResult, name: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        } catch let error as DecodingError {
            throw unexpected(result, problem: describe(error, name: name))
        }
    }

    /// The `.unexpectedOutput` error for `result`, quoting the start of its stdout.
    static func unexpected(_ result: ProcessResult, problem: String) -> GitHubError {
        let shown = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let got = shown.isEmpty ? "got: nothing on stdout" : "got: " + String(shown.prefix(300)) + (shown.count > 300 ? "…" : "")
        return GitHubError(reason: .unexpectedOutput, command: Redactor.redact(ShellQuote.join(result.argv)),
                           status: result.status, stderrTail: Redactor.redact(got), problem: Redactor.redact(problem))
    }

    /// "gh pr list returned an item without 'url'", "gh pr view returned an item of 'comments'
    /// whose 'body' is not a string", "gh pr list did not print JSON".
    static func describe(_ error: DecodingError, name: String) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "\(name) returned \(place(context.codingPath)) without '\(key.stringValue)'"
        case .valueNotFound(let type, let context):
            return mismatch(name, context.codingPath, "is null, not \(kindName(type))")
        case .typeMismatch(let type, let context):
            return mismatch(name, context.codingPath, "is not \(kindName(type))")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "\(name) did not print JSON"
                : mismatch(name, context.codingPath, "is unreadable")
        @unknown default:
            return "\(name) printed JSON expt cannot read"
        }
    }

    /// The value at `path` is wrong: named as a field of its parent, or as an item.
    private static func mismatch(_ name: String, _ path: [CodingKey], _ what: String) -> String {
        guard let last = path.last else { return "\(name) printed JSON that \(what)" }
        if last.intValue != nil { return "\(name) returned \(place(path)) that \(what)" }
        return "\(name) returned \(place(Array(path.dropLast()))) whose '\(last.stringValue)' \(what)"
    }

    /// Where in the answer: "an object" (the top level), "an item", "an item of 'comments'",
    /// "'author' of an item of 'comments'".
    private static func place(_ path: [CodingKey]) -> String {
        guard let last = path.last else { return "an object" }
        let parent = Array(path.dropLast())
        if last.intValue != nil {
            guard let field = parent.last, field.intValue == nil else { return "an item" }
            return parent.count == 1 ? "an item of '\(field.stringValue)'" : "an item of '\(field.stringValue)' of \(place(Array(parent.dropLast())))"
        }
        return parent.isEmpty ? "'\(last.stringValue)'" : "'\(last.stringValue)' of \(place(parent))"
    }

    private static func kindName(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Bool.self { return "true or false" }
        if type == Int.self || type == Double.self || type == Int64.self { return "a number" }
        if type == [Any].self { return "an array" }
        if type == [String: Any].self { return "an object" }
        let name = String(describing: type)
        if name.hasPrefix("Array") || (name.hasPrefix("[") && !name.contains(":")) { return "an array" }
        if name.hasPrefix("Dictionary") || name.hasPrefix("[") { return "an object" }
        return "a \(name)"
    }
}
