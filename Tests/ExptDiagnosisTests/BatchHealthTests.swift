import XCTest
@testable import ExptDiagnosis

/// Sweep health bands: ≤10% failures watch, >10% of one cause degraded, ≥15% systemic.
final class BatchHealthTests: XCTestCase {
    func tasks(_ groups: [(FailureCategory?, Int)]) -> [FailureCategory?] {
        groups.flatMap { Array(repeating: $0.0, count: $0.1) }
    }

    func testHealthyWhenNothingFailed() {
        let r = BatchHealth.verdict(for: tasks([(.success, 90), (nil, 10)]))
        XCTAssertEqual(r.verdict, .healthy)
        XCTAssertEqual(r.undecided, 10)
    }

    func testIsolatedFailuresAreWatch() {
        let r = BatchHealth.verdict(for: tasks([(.success, 90), (.oomHost, 5), (.preempted, 5)]))
        XCTAssertEqual(r.verdict, .watch)
        XCTAssertEqual(r.failed, 10)
    }

    func testOneCauseAboveTenPercentIsDegraded() {
        let r = BatchHealth.verdict(for: tasks([(.success, 89), (.oomHost, 11)]))
        XCTAssertEqual(r.verdict, .degraded)
        XCTAssertEqual(r.byCategory.first?.category, .oomHost)
        XCTAssertEqual(r.byCategory.first?.tasks.count, 11)
    }

    func testFifteenPercentOfOneCauseIsSystemic() {
        let r = BatchHealth.verdict(for: tasks([(.success, 80), (.configError, 15), (.unknown, 5)]))
        XCTAssertEqual(r.verdict, .systemic)
        XCTAssertTrue(r.explanation.contains("config_error"), r.explanation)
    }

    func testManySmallCausesAboveTheWatchBandAreDegraded() {
        let r = BatchHealth.verdict(for: tasks([(.success, 85), (.oomHost, 5), (.preempted, 5), (.timeout, 5)]))
        XCTAssertEqual(r.verdict, .degraded)
    }

    func testBandsAreConfigurable() {
        let strict = HealthBands(watch: 0.02, degraded: 0.02, systemic: 0.05)
        XCTAssertEqual(BatchHealth.verdict(for: tasks([(.success, 95), (.oomGPU, 5)]), bands: strict).verdict, .systemic)
    }

    func testEmptyBatch() {
        XCTAssertEqual(BatchHealth.verdict(for: []).verdict, .healthy)
    }
}
