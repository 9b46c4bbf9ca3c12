import Foundation
import XCTest
@testable import ExptDiagnosis

/// The wordings of the systems' own message catalogues (Fixtures/catalogue/*.tsv: one line per
/// wording, built from the format string in the source each row names), each diagnosed alone:
/// the rule written for it must decide the category. Rows with category `none` are benign lines
/// of the same systems that must not read as a failure. Rows for state or exit-code rules are
/// given as scheduler facts.
final class CatalogueTests: XCTestCase {
    func testEveryCatalogueWordingLandsInItsCategory() throws {
        let rules = Dictionary(uniqueKeysWithValues: sharedDiagnoser.rules.rules.map { ($0.id, $0) })
        var checked = 0, failures: [String] = []
        for name in ["schedulers.tsv", "frameworks.tsv"] {
            let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("catalogue/" + name), encoding: .utf8)
            for row in text.split(separator: "\n").dropFirst() {
                let c = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard c.count >= 3 else { continue }
                let (line, expected, ruleID) = (c[0], c[1], c[2])
                var input = DiagnosisInput(logs: [LogInput(label: "log", text: line + "\n")])
                if let rule = rules[ruleID], rule.source != .log {
                    var facts = SchedulerFacts()
                    switch rule.source {
                    case .state: facts.state = line
                    case .exitCode: facts.exitCode = Int32(line.trimmingCharacters(in: .whitespaces))
                    case .signal: facts.signal = Int32(line.trimmingCharacters(in: .whitespaces))
                    case .pendingReason: facts.pendingReason = line
                    case .log: break
                    }
                    input = DiagnosisInput(logs: [], scheduler: facts)
                } else if !ruleID.isEmpty {
                    XCTAssertNotNil(rules[ruleID], "\(name): no rule '\(ruleID)'")
                }
                let d = try sharedDiagnoser.diagnose(input)
                checked += 1
                if expected == "none" {
                    // Noise may still be named (a weak hit explains a log with nothing else), but
                    // nothing fatal may fire on it.
                    if d.category.isFailure, let top = d.hits.first, top.effect == .fatal || top.effect == .spoilsSuccess {
                        failures.append("\(name): benign line read as \(d.category.rawValue) (\(d.evidence.first?.rule ?? "?")): \(line)")
                    }
                } else if d.category.rawValue != expected {
                    failures.append("\(name): \(ruleID) expected \(expected), got \(d.category.rawValue) (\(d.evidence.first?.rule ?? "no hit")): \(line.prefix(140))")
                }
            }
        }
        XCTAssertGreaterThan(checked, 250)
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }

    /// Every rule of the two catalogue files names its family and the source of its wording.
    func testCatalogueRulesNameTheirSource() throws {
        let families = sharedDiagnoser.rules.rules.filter { $0.origin.hasPrefix("rules-") }
        XCTAssertGreaterThan(families.count, 150)
        for rule in families {
            XCTAssertNotNil(rule.family, "\(rule.id) (\(rule.origin)) names no family")
            XCTAssertFalse(rule.wordingFrom?.isEmpty ?? true, "\(rule.id) (\(rule.origin)) names no wording_from")
        }
    }
}

/// What docs/diagnosis.md says of the rule files and of `--explain`.
final class RuleDocsTests: XCTestCase {
    /// The table of the three built-in files gives each one's rule count.
    func testTheDocsCountTheRulesOfEachFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/diagnosis.md"), encoding: .utf8)
        let byFile = Dictionary(grouping: sharedDiagnoser.rules.rules.filter { !$0.origin.hasPrefix("built-in") }) {
            String($0.origin.split(separator: ":")[0])
        }
        XCTAssertEqual(Set(byFile.keys), Set(RuleSet.builtinFiles))
        for file in RuleSet.builtinFiles {
            let row = try XCTUnwrap(doc.split(separator: "\n").first { $0.hasPrefix("| `templates/\(file)` |") }, "a row for \(file)")
            XCTAssertTrue(row.hasSuffix("| \(byFile[file]?.count ?? 0) |"), "\(file) has \(byFile[file]?.count ?? 0) rules: \(row)")
        }
    }

    /// `--explain` names the deciding rule's family and the source of its wording.
    func testExplainSaysWhichFamilyRuleDecidedAndWhereItsWordingIsFrom() throws {
        let d = try diagnose(text: "TERM_MEMLIMIT: job killed after reaching LSF memory usage limit.\n")
        let text = d.render(explain: true)
        let decided = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("Decided by: ") }, text)
        XCTAssertTrue(decided.contains("family lsf; wording from IBM LSF"), String(decided))
        XCTAssertTrue(text.contains("    family lsf; wording from "), "each catalogue hit carries its provenance: \(text)")
    }
}
