import Foundation
import XCTest
import ExptModel
@testable import ExptDiagnosis

/// Concrete remedies: memory ×1.5 to a cap or the highmem profile, batch ×0.75 with
/// accumulation ×1.33, time ×1.5 with resume.
final class RemedyTests: XCTestCase {
    let hostOOM = "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=1.batch.\n"
    let gpuOOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
    let timeLimit = "slurmstepd: error: *** JOB 5 ON n1 CANCELLED AT 2025-01-01T00:00:00 DUE TO TIME LIMIT ***\n"

    func testHostMemoryTimesOnePointFive() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 64 * 1024))
        XCTAssertEqual(d.remedy.kind, .escalateResources)
        XCTAssertEqual(d.remedy.change?.memoryMB, 96 * 1024)
        XCTAssertTrue(d.remedy.description.contains("64G → 96G"), d.remedy.description)
    }

    func testHostMemoryStopsAtTheCap() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 64 * 1024, memoryCapMB: 80 * 1024))
        XCTAssertEqual(d.remedy.change?.memoryMB, 80 * 1024)
    }

    func testAtTheCapTheHighmemProfileIsUsed() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 80 * 1024, memoryCapMB: 80 * 1024, profiles: ["highmem"]))
        XCTAssertEqual(d.remedy.change?.profile, "highmem")
        XCTAssertNil(d.remedy.change?.memoryMB)
        let none = try diagnose(text: hostOOM, run: RunFacts(memoryMB: 80 * 1024, memoryCapMB: 80 * 1024))
        XCTAssertEqual(none.remedy.kind, .needsChange)
    }

    func testRequestedMemoryFromTheScheduler() throws {
        let d = try diagnose(text: hostOOM, scheduler: SchedulerFacts(state: "OUT_OF_MEMORY", maxRSSMB: 1000, requestedMemoryMB: 1024))
        XCTAssertEqual(d.remedy.change?.memoryMB, 1536)
        XCTAssertTrue(d.remedy.description.contains("peak RSS 1000M"), d.remedy.description)
    }

    /// Issue 16: a job sampled at 613M under a 100M limit was offered 150M. The proposal now
    /// grows from what the run used when that is above its request.
    func testTheProposalIsNeverBelowWhatTheRunUsed() throws {
        let d = try diagnose(text: hostOOM, scheduler: SchedulerFacts(state: "OUT_OF_MEMORY", maxRSSMB: 613, requestedMemoryMB: 100),
                             run: RunFacts(memoryMB: 100))
        XCTAssertEqual(d.remedy.change?.memoryMB, 920)
        XCTAssertTrue(d.remedy.description.contains("100M → 920M"), d.remedy.description)
        XCTAssertTrue(d.remedy.description.contains("peak RSS 613M"), d.remedy.description)
        // Under the cap but above what the cap allows: no escalation that cannot fit.
        let capped = try diagnose(text: hostOOM, scheduler: SchedulerFacts(state: "OUT_OF_MEMORY", maxRSSMB: 613, requestedMemoryMB: 100),
                                  run: RunFacts(memoryMB: 100, memoryCapMB: 500))
        XCTAssertEqual(capped.remedy.kind, .needsChange)
        XCTAssertNil(capped.remedy.change?.memoryMB)
        XCTAssertTrue(capped.remedy.description.contains("more than the 500M cap allows"), capped.remedy.description)
    }

    func testUnknownMemoryWithAHighmemProfile() throws {
        let d = try diagnose(text: hostOOM, run: RunFacts(profiles: ["highmem"]))
        XCTAssertEqual(d.remedy.change?.profile, "highmem")
    }

    func testGPUBatchAndAccumulationRescaling() throws {
        let d = try diagnose(text: gpuOOM, run: RunFacts(batchSize: 32, gradAccumulation: 4))
        XCTAssertEqual(d.remedy.kind, .escalateResources)
        XCTAssertEqual(d.remedy.change?.batchSize, 24)
        XCTAssertEqual(d.remedy.change?.gradAccumulation, 6)
        XCTAssertTrue(d.remedy.description.contains("32 → 24"))
        XCTAssertTrue(d.remedy.description.contains("4 → 6"))
        let odd = try diagnose(text: gpuOOM, run: RunFacts(batchSize: 7, gradAccumulation: 1))
        XCTAssertEqual(odd.remedy.change?.batchSize, 5)
        XCTAssertEqual(odd.remedy.change?.gradAccumulation, 2)
    }

    func testBatchOfOneCannotShrink() throws {
        let d = try diagnose(text: gpuOOM, run: RunFacts(batchSize: 1, gradAccumulation: 8))
        XCTAssertEqual(d.remedy.kind, .needsChange)
        XCTAssertNil(d.remedy.change)
    }

    func testTimeoutResumesWithALongerLimit() throws {
        let d = try diagnose(text: timeLimit, run: RunFacts(timeLimitSeconds: 4 * 3600),
                             checkpoints: ["ckpt/step_100.pt", "ckpt/step_200.pt"])
        XCTAssertTrue(d.resumable)
        XCTAssertEqual(d.checkpoint, "ckpt/step_200.pt")
        XCTAssertEqual(d.remedy.kind, .resume)
        XCTAssertEqual(d.remedy.change?.timeLimitSeconds, 6 * 3600)
        XCTAssertEqual(d.remedy.change?.resumeFrom, "ckpt/step_200.pt")
        XCTAssertTrue(d.remedy.description.contains("4h → 6h"), d.remedy.description)
    }

    func testTimeoutWithoutCheckpointRestartsWithMoreTime() throws {
        let d = try diagnose(text: timeLimit, scheduler: SchedulerFacts(state: "TIMEOUT", timeLimitSeconds: 5400))
        XCTAssertFalse(d.resumable)
        XCTAssertEqual(d.remedy.kind, .escalateResources)
        XCTAssertEqual(d.remedy.change?.timeLimitSeconds, 8100)
    }

    func testPreemptionResumesOrRetries() throws {
        let log = "slurmstepd: error: *** JOB 9 ON n2 CANCELLED AT 2025-01-01T00:00:00 DUE TO PREEMPTION ***\n"
        XCTAssertEqual(try diagnose(text: log, checkpoints: ["c.pt"]).remedy.kind, .resume)
        XCTAssertEqual(try diagnose(text: log).remedy.kind, .retry)
    }

    func testCodeErrorsNeedAChangeAndAreNotResumable() throws {
        let d = try diagnose(text: "KeyError: 'lr'\n", checkpoints: ["c.pt"])
        XCTAssertEqual(d.remedy.kind, .needsChange)
        XCTAssertFalse(d.resumable)
        XCTAssertNil(d.checkpoint)
    }

    func testRuleRemedyOverride() throws {
        let d = try diagnose(text: "Warning  Evicted  pod  The node had condition: [DiskPressure].\n")
        XCTAssertEqual(d.category, .diskFull)
        XCTAssertEqual(d.remedy.kind, .resubmitElsewhere)
    }

    func testFormatting() {
        XCTAssertEqual(Units.memoryString(98_304), "96G")
        XCTAssertEqual(Units.memoryString(1536), "1536M")
        XCTAssertEqual(Units.duration(5400), "1h30m")
        XCTAssertEqual(Units.duration(90), "1m30s")
    }
}
