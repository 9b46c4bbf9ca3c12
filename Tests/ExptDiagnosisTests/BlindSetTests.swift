import Foundation
import XCTest
@testable import ExptDiagnosis

/// The blind protocol of docs/diagnosis.md ("The blind protocol"): real log excerpts from
/// sources no other test uses, with the source URL of each in manifest.tsv. Fixtures/blind is
/// the first set (split by a hash of the source URL into `frozen` and `tuning`; now all tuning
/// data); Fixtures/blind2 is the held-out set, never tuned on. Logs only: no scheduler or run
/// facts.
final class BlindSetTests: XCTestCase {
    /// The held-out set's floor: its figure at the latest measurement (133/162 = 0.821,
    /// 2026-12-03) minus three logs. Issue 15's target is 0.95, which is NOT reached;
    /// docs/diagnosis.md.
    static let minimumFrozenTop1 = 0.80
    /// Set 6's untouched figure, 59/80 = 0.738, minus three logs.
    static let secondHeldOutFloor = 0.70

    struct Row {
        var file, label, secondary, keyEvidence, source, family, split: String
    }

    static func rows(_ set: String = "blind") throws -> [Row] {
        let manifest = TestPaths.fixtures.appendingPathComponent(set + "/manifest.tsv")
        return try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").dropFirst().compactMap { line in
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard c.count >= 7 else { return nil }
            return Row(file: c[0], label: c[1], secondary: c[2], keyEvidence: c[3], source: c[4], family: c[5], split: c[6])
        }
    }

    struct Score {
        /// Logs of runs that failed (not success, not false_success) diagnosed success, and false
        /// successes diagnosed success, counted apart.
        var total = 0, top1 = 0, decisive = 0, failedAsSuccess = 0, falseSuccessAsSuccess = 0
        var misses: [String] = []
        var rate: Double { total == 0 ? 0 : Double(top1) / Double(total) }
        var line: String { String(format: "%d/%d = %.3f top-1; first evidence line = the labeled decisive line: %d/%d; failed logs called success: %d; false successes called success: %d", top1, total, rate, decisive, total, failedAsSuccess, falseSuccessAsSuccess) }
    }

    /// Scores one set; misses are printed only where `showMisses` (never for a split that is
    /// still held out, so that reading the test output cannot tune the rules to it).
    func score(_ set: String, showMisses: (String) -> Bool) throws -> [String: Score] {
        let dir = TestPaths.fixtures.appendingPathComponent(set)
        var scores: [String: Score] = [:]
        let verbose = ProcessInfo.processInfo.environment["EXPT_DIAG_VERBOSE"] == "1"
        for row in try Self.rows(set) {
            let d = try sharedDiagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: row.file, path: dir.appendingPathComponent(row.file).path)]))
            if verbose, showMisses(row.split) { print("== \(row.file) [\(row.split)] label \(row.label)\n" + d.render(explain: true)) }
            var s = scores[row.split] ?? Score()
            s.total += 1
            let got = d.category.rawValue
            if got == row.label { s.top1 += 1 } else if showMisses(row.split) {
                s.misses.append("\(row.file) expected \(row.label) → got \(got) [\(d.evidence.first.map { "\($0.rule ?? "?"): \($0.text.prefix(100))" } ?? "no evidence")]")
            }
            // The first evidence line is the one a person would quote (or the scheduler fact).
            let first = d.evidence.first?.text.trimmingCharacters(in: .whitespaces) ?? ""
            let key = row.keyEvidence.trimmingCharacters(in: .whitespaces)
            if !first.isEmpty, first.contains(key) || key.contains(first) { s.decisive += 1 }
            if d.category == .success, row.label == "false_success" { s.falseSuccessAsSuccess += 1 }
            else if d.category == .success, row.label != "success" { s.failedAsSuccess += 1 }
            scores[row.split] = s
        }
        for (split, s) in scores.sorted(by: { $0.key < $1.key }) {
            print("\(set), \(split): \(s.line)")
            for m in s.misses { print("  miss [\(split)]: \(m)") }
        }
        return scores
    }

    /// The first set: its `frozen` split was scored untouched (0.508) and once after the
    /// catalogue rules (0.737); that run printed its misses, so from then on the whole set is
    /// tuning data. Its floors are the figures reached, minus a margin of a few logs.
    func testFirstSetNowTuningData() throws {
        let scores = try score("blind", showMisses: { _ in true })
        for (split, s) in scores {
            XCTAssertEqual(s.failedAsSuccess, 0, "\(split): failed logs diagnosed success")
            // F15 and F27: a run resumed at its last step, and one whose epochs were all
            // "already passed", print a normal end; docs/diagnosis.md, known weaknesses.
            XCTAssertLessThanOrEqual(s.falseSuccessAsSuccess, 2, "\(split): false successes diagnosed success")
        }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(scores["frozen"]).rate, Self.firstSetFloor)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(scores["tuning"]).rate, Self.firstSetFloor)
    }
    static let firstSetFloor = 0.95

    /// The third set (Fixtures/blind3, 103 logs): more tuning data, collected like the others
    /// while the first set's misses were being fixed.
    func testThirdSetTuningData() throws {
        let s = try XCTUnwrap(try score("blind3", showMisses: { _ in true })["tuning"])
        XCTAssertEqual(s.failedAsSuccess, 0, "failed logs diagnosed success")
        XCTAssertGreaterThanOrEqual(s.rate, Self.thirdSetFloor)
    }
    static let thirdSetFloor = 0.93

    /// The fourth set (Fixtures/blind4, 68 logs): tuning data collected on 2026-12-03 from the
    /// families issue 15 names (not from the held-out set, whose logs stay unread). First scores:
    /// its first 24 logs 14/24 before any rule was written for them; all 68 at 53/68 (0.779)
    /// when the last three parts arrived; 59/68 after the rules of "tuning set 4".
    func testFourthSetTuningData() throws {
        let s = try XCTUnwrap(try score("blind4", showMisses: { _ in true })["tuning"])
        XCTAssertEqual(s.failedAsSuccess, 0, "failed logs diagnosed success")
        XCTAssertGreaterThanOrEqual(s.rate, Self.fourthSetFloor)
    }
    static let fourthSetFloor = 0.85

    /// The fifth set (Fixtures/blind5, 47 logs): tuning data collected on 2026-12-03 (second
    /// session), weighted to success and false_success. Untouched it scored 29/47 (its success
    /// and false-success logs 6/20); 39/47 after the success-model rules (docs/diagnosis.md).
    func testFifthSetTuningData() throws {
        let s = try XCTUnwrap(try score("blind5", showMisses: { _ in true })["tuning"])
        XCTAssertEqual(s.failedAsSuccess, 0, "failed logs diagnosed success")
        XCTAssertGreaterThanOrEqual(s.rate, Self.fifthSetFloor)
    }
    static let fifthSetFloor = 0.8

    /// The seventh set (Fixtures/blind7, 67 logs): tuning data collected on 2026-12-04 after set 6
    /// was frozen. Untouched, with the 1,297 rules that scored set 6, it scored 41/67 (0.612);
    /// then family rules for its misses (docs/diagnosis.md, step 13).
    func testSeventhSetTuningData() throws {
        let s = try XCTUnwrap(try score("blind7", showMisses: { _ in true })["tuning"])
        XCTAssertEqual(s.failedAsSuccess, 0, "failed logs diagnosed success")
        XCTAssertGreaterThanOrEqual(s.rate, Self.seventhSetFloor)
    }
    /// 56/67 after its rules, minus two logs (54/67).
    static let seventhSetFloor = 0.8

    /// The final held-out set (Fixtures/blind2), collected after the first set was exposed and
    /// never tuned on: only its totals are printed. `EXPT_BLIND_SHOW=1` prints its misses (for
    /// after the final measurement; docs/diagnosis.md says when that was).
    func testHeldOutSet() throws {
        let frozen = try scoreHeldOut("blind2")
        XCTAssertGreaterThanOrEqual(frozen.total, 150, "the protocol asks for at least 150 held-out logs")
        XCTAssertGreaterThanOrEqual(frozen.rate, Self.minimumFrozenTop1, "held-out set: \(frozen.line)")
    }

    /// The second held-out set (Fixtures/blind6), collected on 2026-12-04 from sources no other
    /// set or test uses, by people who saw neither the rules nor the other sets, and scored before
    /// the rule drafts of that day were merged (docs/diagnosis.md, step 12). Like set 2, only its
    /// totals are printed.
    func testSecondHeldOutSet() throws {
        let frozen = try scoreHeldOut("blind6")
        XCTAssertGreaterThanOrEqual(frozen.rate, Self.secondHeldOutFloor, "second held-out set: \(frozen.line)")
    }

    /// A held-out set's `frozen` totals, with no failed log called success. Off by default, so
    /// that a run of the tests while changing rules shows nothing of a held-out set, not even its
    /// total; scripts/test.sh (and so CI) turns it on with EXPT_HELDOUT=1.
    func scoreHeldOut(_ set: String) throws -> Score {
        guard ProcessInfo.processInfo.environment["EXPT_HELDOUT"] == "1" else {
            throw XCTSkip("the held-out sets are scored only with EXPT_HELDOUT=1 (scripts/test.sh sets it)")
        }
        let show = ProcessInfo.processInfo.environment["EXPT_BLIND_SHOW"] == "1"
        let frozen = try XCTUnwrap(try score(set, showMisses: { _ in show })["frozen"])
        XCTAssertEqual(frozen.failedAsSuccess, 0, "\(set): failed logs diagnosed success")
        return frozen
    }

    /// Every excerpt's labeled decisive line is in its file, every source is used once, and no
    /// source is one of the other tests' (the validation set's manifest).
    /// Every set whose manifest is here (a checkout may lack the held-out one).
    static var presentSets: [String] {
        ["blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7"].filter {
            FileManager.default.fileExists(atPath: TestPaths.fixtures.appendingPathComponent($0 + "/manifest.tsv").path)
        }
    }

    func testManifestIsConsistent() throws {
        for set in Self.presentSets {
            try checkManifest(set)
        }
    }

    /// No source is in two sets: each set judges logs the others never saw. Only the names of
    /// tuning sets' files are printed on failure, never the held-out set's.
    func testNoSourceIsInTwoSets() throws {
        var owner: [String: String] = [:]
        var shared: [String] = []
        for set in Self.presentSets {
            for row in try Self.rows(set) {
                let source = row.source.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                if let first = owner[source] {
                    shared.append([first, set].filter { !Self.heldOut.contains($0) }.joined(separator: "/") + (Self.heldOut.contains(set) ? "" : ":" + row.file))
                } else { owner[source] = set }
            }
        }
        XCTAssertEqual(shared, [], "sources used by two sets")
    }

    /// The sets whose misses are never printed.
    static let heldOut: Set<String> = ["blind2", "blind6"]

    func checkManifest(_ set: String) throws {
        let dir = TestPaths.fixtures.appendingPathComponent(set)
        let rows = try Self.rows(set)
        XCTAssertEqual(Set(rows.map(\.source)).count, rows.count, "one log per source")
        let validation = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("validation/manifest.tsv"), encoding: .utf8)
        for row in rows {
            let text = try String(contentsOf: dir.appendingPathComponent(row.file), encoding: .utf8)
            XCTAssertTrue(text.contains(row.keyEvidence), "\(row.file): key evidence not in the file")
            XCTAssertTrue(["frozen", "tuning"].contains(row.split), row.file)
            XCTAssertNotNil(FailureCategory(rawValue: row.label), "\(row.file): unknown label \(row.label)")
            XCTAssertFalse(validation.contains(row.source + "\t"), "\(row.file): source also in the validation set")
        }
    }
}

/// `diagnoseAll` (every core) answers exactly what one-by-one diagnosis answers.
final class ConcurrentDiagnosisTests: XCTestCase {
    func testDiagnoseAllMatchesOneByOne() throws {
        let dir = TestPaths.fixtures.appendingPathComponent("blind")
        let inputs = try BlindSetTests.rows("blind").map { DiagnosisInput(logs: [LogInput(label: $0.file, path: dir.appendingPathComponent($0.file).path)]) }
        let one = try inputs.map { try sharedDiagnoser.diagnose($0) }
        for _ in 0..<3 {
            let all = try sharedDiagnoser.diagnoseAll(inputs).map { try $0.get() }
            XCTAssertEqual(all.map(\.category), one.map(\.category))
            XCTAssertEqual(all.map(\.evidence), one.map(\.evidence))
        }
    }
}

/// `LossScanner` reads exactly the loss values `ProgressParser.lossRegex` finds, on every line
/// of every fixture log and on edge cases.
final class LossScannerTests: XCTestCase {
    func regexValues(_ line: String) -> [Double] {
        let ns = line as NSString
        return ProgressParser.lossRegex.matches(in: line, range: NSRange(location: 0, length: ns.length))
            .compactMap { ProgressParser.number(ns, $0.range(at: 1)) }
    }

    func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }

    func testScannerMatchesTheRegex() throws {
        let edge = ["loss=0.5", "train_loss: 1e-3", "val_loss=0.2 loss=0.3", "eval_train_loss=4", "xtrain_loss=1",
                    "loss: nan", "Loss = -inf", "'loss': 2.5e+01,", "lossy=3", "closs=2", "loss=", "loss: loss=7",
                    "test_loss=1 train/loss 0.25", "\"loss\": 0.12", "loss\t=\t3.", "LOSS=Infinity", "step 3 loss=.5"]
        var lines = edge
        for dir in ["blind", "blind3", "validation"] {
            let url = TestPaths.fixtures.appendingPathComponent(dir)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.hasSuffix(".log") {
                let text = String(decoding: try Data(contentsOf: url.appendingPathComponent(name)), as: UTF8.self)
                lines += text.split(separator: "\n").map(String.init).filter { $0.lowercased().contains("loss") }
            }
        }
        XCTAssertGreaterThan(lines.count, 100)
        for line in lines {
            let lower = line.lowercased()
            XCTAssertTrue(same(LossScanner.values(lower), regexValues(lower)), "\(line): scanner \(LossScanner.values(lower)), regex \(regexValues(lower))")
        }
    }
}
