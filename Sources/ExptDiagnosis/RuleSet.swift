import Foundation
import ExptTOML
import ExptTemplates

/// An ordered set of rules: the built-in ones from `templates/rules.toml`, plus a repository's
/// `.expt/rules.toml` where a rule with an existing id replaces it.
public struct RuleSet: @unchecked Sendable {
    public private(set) var rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// The rules shipped in the binary. Throws only if the embedded file is broken (a test
    /// guards against that).
    public static func builtin() throws -> RuleSet {
        var set = RuleSet(rules: [])
        for file in builtinFiles {
            guard let text = EmbeddedTemplates.text(file) else {
                throw DiagnosisError("the built-in \(file) is missing from the binary",
                                     hint: "rebuild expt: templates/\(file) is embedded by SwiftPM (Package.swift)")
            }
            // One rule set in three files: an id defined twice would silently replace a rule.
            let ids = Set(set.rules.map(\.id))
            let specs = try specs(text, file: file)
            if let dup = specs.first(where: { ids.contains($0.id) }) {
                throw DiagnosisError("rule '\(dup.id)' (\(dup.origin)) is already defined in another built-in rules file")
            }
            // The built-in patterns are known to compile (a test compiles every one): each is
            // compiled when a line first wakes it.
            set = try set.merging(specs, compileNow: false)
        }
        return set
    }

    /// The built-in rules, in order: the general rules, then those of schedulers and platforms,
    /// then those of frameworks and workflow engines (templates/, embedded in the binary).
    public static let builtinFiles = ["rules.toml", "rules-schedulers.toml", "rules-frameworks.toml"]

    /// `base` plus the overrides in `path`; a missing file means no overrides.
    public static func load(overridesAt path: String, base: RuleSet) throws -> RuleSet {
        guard FileManager.default.fileExists(atPath: path) else { return base }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DiagnosisError("cannot read rules file \(path): \(error.localizedDescription)")
        }
        return try base.merging(text: text, file: path)
    }

    /// `self` with the rules of a TOML text applied: same id replaces (keys left out keep the
    /// replaced rule's values), `disabled = true` removes, new ids are appended.
    public func merging(text: String, file: String) throws -> RuleSet {
        try merging(try RuleSet.specs(text, file: file), compileNow: true)
    }

    /// A user's patterns compile now, so that a broken one is an error when the file loads.
    func merging(_ specs: [RuleSpec], compileNow: Bool) throws -> RuleSet {
        var byID: [String: Int] = [:]
        for (i, rule) in rules.enumerated() { byID[rule.id] = i }
        var merged: [Rule?] = rules
        for spec in specs {
            let existing = byID[spec.id].flatMap { merged[$0] }
            if spec.disabled {
                if let index = byID[spec.id] { merged[index] = nil }
                continue
            }
            let rule = try spec.build(inheriting: existing, compileNow: compileNow)
            if let index = byID[spec.id] { merged[index] = rule } else {
                byID[spec.id] = merged.count; merged.append(rule)
            }
        }
        return RuleSet(rules: merged.compactMap { $0 })
    }

    static func parse(_ text: String, file: String, base: RuleSet?) throws -> [Rule] {
        try (base ?? RuleSet(rules: [])).merging(text: text, file: file).rules
    }

    static let allowedKeys: Set<String> = ["id", "category", "source", "patterns", "precedence", "effect",
                                            "secondary", "root_cause_of", "remedy", "advice", "disabled",
                                            "description", "family", "wording_from"]

    /// The `[[rule]]` tables of a rules file, validated but not compiled.
    static func specs(_ text: String, file: String) throws -> [RuleSpec] {
        let root: TOMLTable
        do { root = try TOML.parse(text, file: file) } catch {
            throw DiagnosisError("\(error)", hint: "fix the TOML syntax of \(file)")
        }
        do {
            try root.checkKeys(allowed: ["rule"])
            var seen: Set<String> = []
            return try (root.tableArray("rule") ?? []).map { table in
                try table.checkKeys(allowed: allowedKeys)
                guard let id = try table.string("id"), !id.isEmpty else {
                    throw DiagnosisError("\(file):\(table.line): a [[rule]] has no id",
                                         hint: "add id = \"my-rule\"")
                }
                guard seen.insert(id).inserted else {
                    throw DiagnosisError("\(file):\(table.line): rule '\(id)' is defined twice in the same file")
                }
                let origin = "\(file):\(table.line)"
                func parsed<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
                    guard let raw = try table.string(key) else { return nil }
                    guard let value = T(rawValue: raw) else {
                        throw DiagnosisError("rule '\(id)' (\(file):\(table.line(of: key) ?? table.line)): unknown \(key) '\(raw)'",
                                             hint: "see docs/diagnosis.md for the allowed values")
                    }
                    return value
                }
                let causes = try (table.stringArray("root_cause_of") ?? []).map { raw -> FailureCategory in
                    guard let c = FailureCategory(rawValue: raw) else {
                        throw DiagnosisError("rule '\(id)' (\(origin)): unknown category '\(raw)' in root_cause_of")
                    }
                    return c
                }
                return RuleSpec(id: id, origin: origin, disabled: try table.bool("disabled") ?? false,
                                category: try parsed("category", FailureCategory.self),
                                source: try parsed("source", RuleSource.self),
                                patterns: try table.stringArray("patterns"),
                                precedence: try table.int("precedence"),
                                effect: try parsed("effect", RuleEffect.self),
                                secondary: try parsed("secondary", FailureCategory.self),
                                rootCauseOf: table["root_cause_of"] == nil ? nil : causes,
                                remedy: try parsed("remedy", RemedyKind.self),
                                advice: try table.string("advice"),
                                family: try table.string("family"), wordingFrom: try table.string("wording_from"))
            }
        } catch let error as TOMLError {
            throw DiagnosisError("\(error)", hint: "see docs/diagnosis.md for the rule format")
        }
    }
}

/// A `[[rule]]` table before it is compiled; nil fields inherit from the rule it replaces.
struct RuleSpec {
    var id: String
    var origin: String
    var disabled: Bool
    var category: FailureCategory?
    var source: RuleSource?
    var patterns: [String]?
    var precedence: Int?
    var effect: RuleEffect?
    var secondary: FailureCategory?
    var rootCauseOf: [FailureCategory]?
    var remedy: RemedyKind?
    var advice: String?
    var family: String?
    var wordingFrom: String?

    func build(inheriting base: Rule?, compileNow: Bool = true) throws -> Rule {
        guard let category = category ?? base?.category else {
            throw DiagnosisError("rule '\(id)' (\(origin)) has no category", hint: "add category = \"oom_gpu\" (or another)")
        }
        guard let patterns = patterns ?? base?.patterns, !patterns.isEmpty else {
            throw DiagnosisError("rule '\(id)' (\(origin)) has no patterns", hint: "add patterns = ['regex', ...]")
        }
        return try Rule(id: id, category: category, source: source ?? base?.source ?? .log, patterns: patterns,
                        precedence: precedence ?? base?.precedence ?? 50,
                        effect: effect ?? (category == base?.category ? base?.effect : nil),
                        secondary: secondary ?? base?.secondary, rootCauseOf: rootCauseOf ?? base?.rootCauseOf ?? [],
                        remedy: remedy ?? base?.remedy, advice: advice ?? base?.advice, origin: origin,
                        family: family ?? base?.family, wordingFrom: wordingFrom ?? base?.wordingFrom,
                        compileNow: compileNow)
    }
}
