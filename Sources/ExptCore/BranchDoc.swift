import Foundation
import ExptModel

/// A branch doc (`docs/<branch>.md`): markdown with `## ` sections, of which `## Fixes` only
/// ever grows by `### Fix N` entries that expt appends.
public struct BranchDoc: Equatable {
    public static let defaultRequiredSections = ["Purpose", "Results", "Fixes"]
    public static let fixFields = ["Failed run", "Diagnosis", "Evidence", "Change", "Relaunched as"]

    /// One `### Fix N — date — category` entry, with its exact text (for append-only checks).
    public struct FixEntry: Equatable {
        public var number: Int
        public var heading: String
        public var text: String
        public var fields: [String: String]
        public var line: Int
    }

    public var text: String
    public var sections: [String]
    public var fixes: [FixEntry]
    /// Lines of the Fixes section that are neither entries nor comments/blank (malformed).
    public var strayFixLines: [(line: Int, text: String)]

    public static func == (a: BranchDoc, b: BranchDoc) -> Bool { a.text == b.text }

    public init(_ text: String) {
        self.text = text
        var sections: [String] = []
        var fixes: [FixEntry] = []
        var stray: [(Int, String)] = []
        var inFixes = false, inComment = false
        var current: FixEntry?
        let lines = text.components(separatedBy: "\n")
        func close() { if var c = current { c.text = c.text.trimmingCharacters(in: .newlines); fixes.append(c) }; current = nil }
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("## ") {
                close()
                let name = String(raw.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                sections.append(name)
                inFixes = name == "Fixes"
                continue
            }
            guard inFixes else { continue }
            if inComment { if line.contains("-->") { inComment = false }; continue }
            if line.hasPrefix("<!--") { if !line.contains("-->") { inComment = true }; continue }
            if raw.hasPrefix("### ") {
                close()
                let heading = String(raw.dropFirst(4))
                let number = BranchDoc.fixNumber(heading)
                current = FixEntry(number: number ?? -1, heading: heading, text: raw, fields: [:], line: i + 1)
                continue
            }
            if var c = current {
                c.text += "\n" + raw
                if line.hasPrefix("- "), let colon = line.firstIndex(of: ":") {
                    let key = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
                    c.fields[key] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                }
                current = c
            } else if !line.isEmpty {
                stray.append((i + 1, raw))
            }
        }
        close()
        self.sections = sections
        self.fixes = fixes
        self.strayFixLines = stray
    }

    /// "Fix 3 — 2026-11-24 — oom_host" → 3.
    static func fixNumber(_ heading: String) -> Int? {
        guard heading.hasPrefix("Fix ") else { return nil }
        return Int(heading.dropFirst(4).prefix { $0.isNumber })
    }

    /// The doc with `entry` appended at the end of the Fixes section.
    public func appendingFix(_ entry: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("## ") && $0.dropFirst(3).trimmingCharacters(in: .whitespaces) == "Fixes" }) else {
            let sep = text.hasSuffix("\n") ? "\n" : "\n\n"
            return text + sep + "## Fixes\n\n" + entry + "\n"
        }
        var end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("## ") }) ?? lines.count
        while end > start + 1 && lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
        let insert = [""] + entry.components(separatedBy: "\n") + (end < lines.count ? [""] : [])
        lines.insert(contentsOf: insert, at: end)
        var out = lines.joined(separator: "\n")
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    /// Renders a Fixes entry in the format `doc check` accepts.
    public static func renderFix(number: Int, date: String, category: String, fields: [(String, String)]) -> String {
        (["### Fix \(number) — \(date) — \(category)"] + fields.map { "- \($0.0): \($0.1)" }).joined(separator: "\n")
    }
}

/// One problem `doc check` found, with how to fix it.
public struct DocProblem: Codable, Equatable, Sendable {
    /// Which rule a problem breaks, for callers to match on (never the message).
    public enum Rule: String, Codable, Sendable {
        case missingDoc = "missing_doc", missingSection = "missing_section", entryNumbering = "entry_numbering"
        case entryField = "entry_field", strayText = "stray_text", entryDeleted = "entry_deleted"
        case entryEdited = "entry_edited", trailerWithoutEntry = "trailer_without_entry"
        case notAFile = "not_a_file"
    }
    public var rule: Rule
    public var line: Int?
    public var message: String
    public var fix: String

    public init(_ rule: Rule, line: Int?, message: String, fix: String) {
        self.rule = rule; self.line = line; self.message = message; self.fix = fix
    }

    /// A past Fixes entry changed: what history checks look for.
    public var rewritesHistory: Bool { rule == .entryDeleted || rule == .entryEdited }
}

/// The rules the pre-commit hook and expt's own commits enforce on a branch doc.
public enum DocRules {
    /// Checks `new` on its own, and, when `old` is given, that no past Fixes entry changed.
    public static func check(_ new: BranchDoc, against old: BranchDoc?, requiredSections: [String] = BranchDoc.defaultRequiredSections) -> [DocProblem] {
        var problems: [DocProblem] = []
        for s in requiredSections where !new.sections.contains(s) {
            problems.append(DocProblem(.missingSection, line: nil, message: "the section '## \(s)' is missing",
                                       fix: "add a line '## \(s)' (see templates/branch-doc.md)"))
        }
        for (i, f) in new.fixes.enumerated() {
            if f.number != i + 1 {
                problems.append(DocProblem(.entryNumbering, line: f.line, message: "Fixes entry '### \(f.heading)' should be 'Fix \(i + 1)'",
                                           fix: "number Fixes entries 1, 2, 3… in order, as `### Fix N — date — category`"))
            }
            for field in ["Failed run", "Diagnosis", "Change"] where f.fields[field] == nil {
                problems.append(DocProblem(.entryField, line: f.line, message: "Fixes entry \(i + 1) has no '- \(field): …' line",
                                           fix: "add '- \(field): …' under its heading"))
            }
        }
        for s in new.strayFixLines {
            problems.append(DocProblem(.strayText, line: s.line, message: "text in '## Fixes' outside an entry: \(s.text)",
                                       fix: "put notes in other sections; Fixes holds only `### Fix N` entries"))
        }
        if let old {
            for (i, past) in old.fixes.enumerated() {
                if i >= new.fixes.count {
                    problems.append(DocProblem(.entryDeleted, line: past.line, message: "Fixes entry \(past.number) was deleted",
                                               fix: "restore it: past Fixes entries are never removed (git show HEAD:<doc>)"))
                } else if new.fixes[i].text != past.text {
                    problems.append(DocProblem(.entryEdited, line: new.fixes[i].line, message: "Fixes entry \(past.number) was edited",
                                               fix: "restore its text from HEAD and add a new entry instead: past entries are never edited"))
                }
            }
        }
        return problems
    }
}
