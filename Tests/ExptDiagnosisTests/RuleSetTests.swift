import Foundation
import XCTest
@testable import ExptDiagnosis

/// Rules as data: the built-in file, overrides, errors, and the literal prefilter.
final class RuleSetTests: XCTestCase {
    func testBuiltinRulesLoadAndCoverEveryCategory() throws {
        let rules = try RuleSet.builtin().rules
        XCTAssertGreaterThan(rules.count, 60)
        let categories = Set(rules.map(\.category))
        for c in FailureCategory.allCases where c != .unknown { XCTAssertTrue(categories.contains(c), c.rawValue) }
        XCTAssertEqual(Set(rules.map(\.id)).count, rules.count, "ids are unique")
    }

    func testEmbeddedRulesMatchTheTemplateFile() throws {
        let file = TestPaths.packageRoot.appendingPathComponent("templates/rules.toml")
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(EmbeddedTemplatesText.rules, text, "run scripts/embed-templates.py")
    }

    /// Every built-in log pattern must have a prefilter literal: a pattern without one runs on
    /// every line of every window and breaks the time budget.
    func testEveryBuiltinLogPatternHasAPrefilterLiteral() throws {
        for rule in try RuleSet.builtin().rules where rule.source == .log {
            for p in rule.patterns {
                XCTAssertNotNil(LiteralExtractor.literals(of: p), "rule \(rule.id): no literal in \(p)")
            }
        }
    }

    /// The built-in patterns compile when a line first wakes them, not at load: each must
    /// compile, or it would silently match nothing.
    func testEveryBuiltinPatternCompiles() throws {
        var count = 0
        for rule in try RuleSet.builtin().rules {
            for p in rule.patterns {
                XCTAssertNotNil(RulePattern.compile(p), "rule \(rule.id) (\(rule.origin)): \(p)")
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 1500)
    }

    /// Ordinary training output must not wake any regex: the tail of a multi-GB log is
    /// thousands of such lines.
    func testOrdinaryTrainingLinesAreNotRegexCandidates() {
        let lines = [
            "[2025-03-01 12:00:01,123][train][INFO] - epoch 3 step 1200/500000 loss=0.4321 lr=3.0e-04 grad_norm=1.23 tokens/s=51234 mem=38.2GB",
            "Epoch 2:  45%|████▌     | 723/1602 [2:12:45<2:59:53, 12.28s/it, loss=2.15, v_num=3hqp]",
            "{'loss': 0.6931, 'learning_rate': 4.9e-05, 'epoch': 0.12}",
            "step 100 | train_loss 1.234 | val_loss 1.301 | ppl 3.44 | 812 ms/step",
            "INFO:root:Saving checkpoint to /scratch/run/ckpt/step_1200.pt",
        ]
        let text = lines.joined(separator: "\n") + "\n"
        let window = LogReader.window(label: "t", data: Array(text.utf8), limits: .default)
        let woken = sharedDiagnoser.compiled.candidates(window).map { "\($0.rule) on line \($0.line + 1)" }
        XCTAssertEqual(woken, [], "rules whose literals ordinary lines contain")
    }

    func testLiteralExtraction() {
        XCTAssertEqual(lits(#"Detected \d+ oom[-_ ]kill event"#), ["kill event"])
        XCTAssertEqual(lits(#"(?i)CUDA out of memory"#), ["cuda out of memory"])
        XCTAssertEqual(lits(#"fo|barbaz"#), nil, "a branch without a 3-byte literal disables the filter")
        XCTAssertEqual(lits(#"abcd|wxyz"#), ["abcd", "wxyz"])
        XCTAssertEqual(lits(#"abcx?"#), ["abc"])
        XCTAssertEqual(lits(#"ab\.cd"#), ["ab.cd"])
        XCTAssertEqual(lits(#"abcz{0,2}"#), ["abc"])
        XCTAssertEqual(lits(#"\b(NODE_FAIL|BOOT_FAIL)\b"#), ["node_fail", "boot_fail"])
        XCTAssertEqual(lits(#"(?i)(50[234]|429) (Server Error|Client Error)"#), ["server error", "client error"])
        XCTAssertEqual(lits(#"x(?:abcd|efgh)?yz"#), nil, "an optional group is not required")
        XCTAssertEqual(lits(#"(?<=abc)d"#), nil)
        XCTAssertEqual(lits(#"[abc]+ hello"#), [" hello"])
    }

    /// A case-sensitive pattern's literal keeps its case for the check at a hit; a pattern with
    /// an inline flag, or spelling the literal two ways, keeps none.
    func testExactCaseOfLiterals() {
        func exact(_ lit: String, _ p: String) -> String? {
            LiteralExtractor.exactCase(of: Array(lit.utf8), in: p).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(exact("completed", #"\s+COMPLETED\s+0:0"#), "COMPLETED")
        XCTAssertNil(exact("completed", #"(?i)\s+COMPLETED"#))
        XCTAssertNil(exact("error", #"Error|error"#))
        XCTAssertNil(exact("ab.cd", #"ab\.cd"#), "spelled with an escape: not found verbatim")
        XCTAssertNil(exact("spaced", #"(?x) spaced"#))
        XCTAssertEqual(exact("boot_fail", #"\b(NODE_FAIL|BOOT_FAIL)\b"#), "BOOT_FAIL")
    }

    private func lits(_ p: String) -> [String]? {
        LiteralExtractor.literals(of: p)?.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The prefilter must never lose a match the plain regexes would find.
    func testPrefilterFindsTheSameHitsAsFullScan() throws {
        var unfiltered = sharedDiagnoser
        unfiltered.usePrefilter = false
        var files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures.path)
            .filter { $0.hasSuffix(".log") }.map(TestPaths.fixture)
        let validation = TestPaths.fixtures.appendingPathComponent("validation")
        files += try FileManager.default.contentsOfDirectory(atPath: validation.path)
            .filter { $0.hasSuffix(".log") }.map { validation.appendingPathComponent($0).path }
        if let shared = try? FileManager.default.contentsOfDirectory(atPath: TestPaths.sharedLogs.path) {
            files += shared.filter { $0.hasSuffix(".log") }.map { TestPaths.sharedLogs.appendingPathComponent($0).path }
        }
        for path in files {
            let input = DiagnosisInput(logs: [LogInput(label: "x", path: path)])
            let a = try sharedDiagnoser.diagnose(input).hits.map { "\($0.rule)@\($0.evidence.line)" }.sorted()
            let b = try unfiltered.diagnose(input).hits.map { "\($0.rule)@\($0.evidence.line)" }.sorted()
            XCTAssertEqual(a, b, path)
        }
    }

    func testOverrideReplacesByIDAndInheritsOmittedKeys() throws {
        let base = try RuleSet.builtin()
        let text = """
        [[rule]]
        id = "shell-killed"
        precedence = 99

        [[rule]]
        id = "my-lab-quota"
        category = "disk_full"
        patterns = ['LAB-QUOTA-[0-9]+ exceeded']
        precedence = 97

        [[rule]]
        id = "python-exception"
        disabled = true
        """
        let dir = try makeTempDir(self)
        let path = dir.appendingPathComponent("rules.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let merged = try RuleSet.load(overridesAt: path, base: base)
        XCTAssertEqual(merged.rules.count, base.rules.count)
        let killed = try XCTUnwrap(merged.rules.first { $0.id == "shell-killed" })
        XCTAssertEqual(killed.precedence, 99)
        XCTAssertEqual(killed.category, .oomHost)
        XCTAssertFalse(killed.patterns.isEmpty)
        XCTAssertNil(merged.rules.first { $0.id == "python-exception" })

        let d = try Diagnoser(rules: merged).diagnose(DiagnosisInput(logs: [LogInput(label: "x", text: "LAB-QUOTA-7 exceeded\n")]))
        XCTAssertEqual(d.category, .diskFull)
        XCTAssertEqual(d.evidence.first?.rule, "my-lab-quota")
    }

    func testMissingOverrideFileMeansNoOverrides() throws {
        let base = try RuleSet.builtin()
        XCTAssertEqual(try RuleSet.load(overridesAt: "/nonexistent/.expt/rules.toml", base: base).rules.count, base.rules.count)
    }

    func testBrokenRegexNamesTheRuleAndFile() throws {
        let text = """
        [[rule]]
        id = "bad-one"
        category = "code_error"
        patterns = ['unclosed (group']
        """
        XCTAssertThrowsError(try RuleSet.builtin().merging(text: text, file: ".expt/rules.toml")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("bad-one"), message)
            XCTAssertTrue(message.contains(".expt/rules.toml:1"), message)
            XCTAssertTrue(message.contains("unclosed (group"), message)
        }
    }

    func testBadValuesAreRejectedWithLocation() throws {
        let cases: [(String, String)] = [
            ("[[rule]]\nid = \"x\"\ncategory = \"oom\"\npatterns = ['a']\n", "unknown category 'oom'"),
            ("[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\n", "has no patterns"),
            ("[[rule]]\ncategory = \"oom_host\"\npatterns = ['abc']\n", "has no id"),
            ("[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\npatterns = ['abc']\npriority = 3\n", "unknown key"),
            ("[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\npatterns = ['abc']\neffect = \"deadly\"\n", "unknown effect"),
            ("[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\npatterns = ['abc']\n[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\npatterns = ['abc']\n", "defined twice"),
            ("[[rule]\n", "rules.toml"),
            // A user's pattern compiles when the file loads (only built-in ones wait for a line).
            ("[[rule]]\nid = \"x\"\ncategory = \"oom_host\"\npatterns = ['(unclosed']\n", "invalid regex pattern '(unclosed'"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try RuleSet(rules: []).merging(text: text, file: "rules.toml"), expected) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should contain \(expected)")
                XCTAssertTrue("\(error)".contains("rules.toml"), "\(error)")
            }
        }
    }
}

/// The embedded copy of templates/rules.toml.
enum EmbeddedTemplatesText {
    static var rules: String? {
        ExptTemplatesAccess.text("rules.toml")
    }
}

/// Evidence from a scheduler fact names it as the rule files spell its source, words spaced.
final class RuleSourceLabelTests: XCTestCase {
    func testEachSourceIsLabelledAsItsRuleFileName() {
        for source in RuleSource.allCases {
            XCTAssertEqual(source.label, source.rawValue.replacingOccurrences(of: "_", with: " "))
        }
        let d = try? sharedDiagnoser.diagnose(DiagnosisInput(logs: [], scheduler: SchedulerFacts(exitCode: 137)))
        XCTAssertEqual(d?.evidence.first?.text, "exit code: 137")
    }
}
