import XCTest
import ExptModel
import ExptDiagnosis
@testable import ExptCore

/// The reconciliation rules on values: each discrepancy, its boundaries, and the runs that
/// must stay quiet.
final class ReconcileTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var config = RunFactsConfig()

    func run(_ state: JobState, endedAgo: TimeInterval? = nil, ranFor: TimeInterval = 3600, limit: Int? = nil) -> RunRecord {
        let end = endedAgo.map { now.addingTimeInterval(-$0) }
        let start = (end ?? now).addingTimeInterval(-ranFor)
        return RunRecord(id: "r3", seq: 3, branch: "exp", attempt: 1, backend: "slurm", jobID: "4242", commit: "c",
                         resources: Resources(timeLimitSeconds: limit), startedAt: start, endedAt: end, state: state,
                         createdAt: start, updatedAt: now)
    }

    func tracker(_ state: String?, heartbeatAgo: TimeInterval? = nil) -> TrackerRun {
        TrackerRun(id: "exp-r3-abc", source: .api, state: state, heartbeatAt: heartbeatAgo.map { now.addingTimeInterval(-$0) })
    }

    func kinds(_ r: RunRecord, _ t: TrackerRun?, progress: ProgressReport? = nil, lastOutputAgo: TimeInterval? = nil) -> [Discrepancy.Kind] {
        Reconciler.discrepancies(run: r, tracker: t, progress: progress, lastOutputAt: lastOutputAgo.map { now.addingTimeInterval(-$0) },
                                 lastLine: "NCCL INFO comm 0x1 rank 3", config: config, now: now).map(\.kind)
    }

    func testZombieWhenTheTrackerRunsOnAfterEveryKindOfEnd() {
        for end in [JobState.failed, .oom, .timeout, .preempted, .cancelled, .lost, .nodeFail, .succeeded] {
            XCTAssertEqual(kinds(run(end, endedAgo: 7200), tracker("running", heartbeatAgo: 10)), [.zombie], "\(end)")
        }
        let d = Reconciler.discrepancies(run: run(.failed, endedAgo: 7200), tracker: tracker("running"), progress: nil,
                                         lastOutputAt: nil, lastLine: nil, config: config, now: now)[0]
        XCTAssertTrue(d.detail.contains("job 4242 ended (failed) 2h"), d.detail)
        XCTAssertTrue(d.detail.contains("expt close-zombies"), d.detail)
    }

    func testFinishedInTheTrackerAfterAPreemptionIsIncompleteNeverSuccess() {
        for end in [JobState.preempted, .failed, .timeout, .oom, .nodeFail, .lost] {
            XCTAssertEqual(kinds(run(end, endedAgo: 60), tracker("finished")), [.incomplete], "\(end)")
        }
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 60), tracker("finished")), [], "both agree: quiet")
    }

    func testCrashedInTheTrackerWhileTheJobRunsIsAStaleTracker() {
        for state in ["crashed", "failed", "killed", "preempted"] {
            XCTAssertEqual(kinds(run(.running), tracker(state, heartbeatAgo: 60), lastOutputAgo: 5), [.staleTracker], state)
        }
        XCTAssertEqual(kinds(run(.running), tracker("running", heartbeatAgo: 60), lastOutputAgo: 5), [])
    }

    func testAStallNeedsBothTheHeartbeatAndTheLogToBeQuietPastTheThreshold() {
        config.stallAfterSeconds = 1800
        // With a tracker: the newer of heartbeat and log decides.
        XCTAssertEqual(kinds(run(.running), tracker("running", heartbeatAgo: 3600), lastOutputAgo: 3600), [.stalled])
        XCTAssertEqual(kinds(run(.running), tracker("running", heartbeatAgo: 3600), lastOutputAgo: 60), [])
        XCTAssertEqual(kinds(run(.running), tracker("running", heartbeatAgo: 60), lastOutputAgo: 3600), [])
        // Without a tracker, from the log alone; just under and just over the threshold.
        XCTAssertEqual(kinds(run(.running), nil, lastOutputAgo: 1799), [])
        XCTAssertEqual(kinds(run(.running), nil, lastOutputAgo: 1801), [.stalled])
        // Nothing known (a remote log): no guess.
        XCTAssertEqual(kinds(run(.running), nil), [])
        // Only a running job stalls.
        XCTAssertEqual(kinds(run(.pending), nil, lastOutputAgo: 7200), [])
        let d = Reconciler.discrepancies(run: run(.running), tracker: nil, progress: nil, lastOutputAt: now.addingTimeInterval(-2820),
                                         lastLine: "NCCL INFO comm 0x1 rank 3", config: config, now: now)[0]
        XCTAssertEqual(d.lastLine, "NCCL INFO comm 0x1 rank 3")
        XCTAssertTrue(d.detail.hasPrefix("no new log line for 47m"), d.detail)
    }

    func testFalseSuccessFromStepsExpectedRuntimeAndTimeLimit() {
        var p = ProgressReport(source: "log")
        p.step = 120; p.totalSteps = 3000
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10), nil, progress: p), [.falseSuccess])
        p.step = 2990
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10), nil, progress: p), [])
        config.expectedRuntimeSeconds = 6 * 3600
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10, ranFor: 600), nil), [.falseSuccess])
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10, ranFor: 4 * 3600), nil), [])
        config.expectedRuntimeSeconds = nil
        // Against a 24 h limit: 30 min is a red flag (under 5%), 2 h is not.
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10, ranFor: 1800, limit: 86400), nil), [.falseSuccess])
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10, ranFor: 7200, limit: 86400), nil), [])
        config.falseSuccessFraction = 0.9
        XCTAssertEqual(kinds(run(.succeeded, endedAgo: 10, ranFor: 7200, limit: 86400), nil), [.falseSuccess], "the threshold is configurable")
        // A failed run is never a false success (it is a failure).
        XCTAssertEqual(kinds(run(.failed, endedAgo: 10, ranFor: 60, limit: 86400), nil), [])
    }

    func testProgressFromTheTrackerOrTheLogWithPercentAndTrend() {
        var t = tracker("running")
        t.step = 340; t.epoch = 2; t.totalSteps = 1000; t.losses = [2.0, 1.8, 1.5, 1.2, 1.0, 0.9]
        let fromTracker = ProgressReport.make(tracker: t, log: Progress(lastStep: 300), config: config)
        XCTAssertEqual(fromTracker?.source, "wandb")
        XCTAssertEqual(fromTracker?.text, "epoch 2, step 340/1000 (34%), loss ↓")
        t.losses = [1.0, 1.0, .nan]
        XCTAssertEqual(ProgressReport.make(tracker: t, log: nil, config: config)?.lossTrend, "NaN")
        t.losses = [1.0, 1.3, 1.6, 2.0]
        XCTAssertEqual(ProgressReport.make(tracker: t, log: nil, config: config)?.lossTrend, "↑")
        t.losses = [1.0, 1.01, 0.99]
        XCTAssertEqual(ProgressReport.make(tracker: t, log: nil, config: config)?.lossTrend, "→")
        // No tracker steps: the log; the target from [run] expected_steps.
        config.expectedSteps = 800
        let fromLog = ProgressReport.make(tracker: tracker("running"), log: Progress(lastStep: 200, lossTrend: "decreasing"), config: config)
        XCTAssertEqual(fromLog?.source, "log")
        XCTAssertEqual(fromLog?.text, "step 200/800 (25%), loss ↓")
        XCTAssertNil(ProgressReport.make(tracker: nil, log: Progress(), config: config))
    }
}
