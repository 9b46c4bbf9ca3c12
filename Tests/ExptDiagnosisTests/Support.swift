import Foundation
import XCTest
@testable import ExptDiagnosis

/// Paths and helpers shared by the diagnosis tests. Fixtures are found from this file's path,
/// because the test target declares no resources.
enum TestPaths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDir.appendingPathComponent("Fixtures")
    /// The package root: Tests/ExptDiagnosisTests/ is two levels below it.
    static let packageRoot = testsDir.deletingLastPathComponent().deletingLastPathComponent()
    static let sharedLogs = packageRoot.appendingPathComponent("../shared/logs").standardized
    static let sharedFixtures = packageRoot.appendingPathComponent("../shared/fixtures").standardized

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
}

/// One diagnoser for all tests: compiling the rules is the expensive part.
let sharedDiagnoser: Diagnoser = {
    do { return Diagnoser(rules: try RuleSet.builtin()) } catch { fatalError("built-in rules do not load: \(error)") }
}()

func diagnose(text: String, scheduler: SchedulerFacts? = nil, run: RunFacts? = nil,
              checkpoints: [String] = []) throws -> Diagnosis {
    try sharedDiagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: "log", text: text)], scheduler: scheduler,
                                                checkpoints: checkpoints, run: run))
}

func diagnose(fixture name: String, scheduler: SchedulerFacts? = nil, run: RunFacts? = nil,
              checkpoints: [String] = []) throws -> Diagnosis {
    try sharedDiagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: name, path: TestPaths.fixture(name))],
                                                scheduler: scheduler, checkpoints: checkpoints, run: run))
}

/// A temporary directory removed at the end of the test.
func makeTempDir(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-diag-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

import ExptTemplates
/// Indirection so tests read embedded templates without importing them everywhere.
enum ExptTemplatesAccess {
    static func text(_ name: String) -> String? { EmbeddedTemplates.text(name) }
}
