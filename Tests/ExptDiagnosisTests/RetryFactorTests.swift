import XCTest
@testable import ExptDiagnosis

/// `[retry] memory_factor` and `time_factor` reach the remedies through `RunFacts`.
final class RetryFactorTests: XCTestCase {
    let hostOOM = "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=1.batch.\n"
    let timeLimit = "slurmstepd: error: *** JOB 5 ON n1 CANCELLED AT 2025-01-01T00:00:00 DUE TO TIME LIMIT ***\n"

    func testMemoryFactorTwoDoublesAOneGigabyteRequest() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 1024, memoryFactor: 2.0))
        XCTAssertEqual(d.category, .oomHost)
        XCTAssertEqual(d.remedy.kind, .escalateResources)
        XCTAssertEqual(d.remedy.change?.memoryMB, 2048)
        XCTAssertTrue(d.remedy.description.contains("1G → 2G"), d.remedy.description)
    }

    func testTheDefaultFactorIsOnePointFive() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 1024))
        XCTAssertEqual(d.remedy.change?.memoryMB, 1536)
    }

    func testTimeFactorScalesTheTimeLimit() throws {
        let d = try diagnose(text: timeLimit, run: RunFacts(timeLimitSeconds: 3600, timeFactor: 3.0))
        XCTAssertEqual(d.remedy.change?.timeLimitSeconds, 3 * 3600)
        XCTAssertTrue(d.remedy.description.contains("1h → 3h"), d.remedy.description)
    }

    func testWithoutKnownFiguresTheAdviceNamesTheFactor() throws {
        let mem = try diagnose(text: hostOOM, run: RunFacts(memoryFactor: 2.0))
        XCTAssertTrue(mem.remedy.description.contains("by 100%"), mem.remedy.description)
        let time = try diagnose(text: timeLimit, run: RunFacts(timeFactor: 1.25))
        XCTAssertTrue(time.remedy.description.contains("25% longer"), time.remedy.description)
    }
}
