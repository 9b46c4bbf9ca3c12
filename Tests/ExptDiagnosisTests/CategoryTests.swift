import Foundation
import XCTest
@testable import ExptDiagnosis

/// One small synthetic log per category and per root-cause-over-symptom rule (Fixtures/).
final class CategoryTests: XCTestCase {
    struct Case {
        var fixture: String
        var category: FailureCategory
        var secondary: FailureCategory?
        /// Line of the headline evidence.
        var line: Int
    }

    static let cases: [Case] = [
        Case(fixture: "oom_host_cgroup_then_killed.log", category: .oomHost, secondary: nil, line: 4),
        Case(fixture: "oom_gpu_traceback.log", category: .oomGPU, secondary: nil, line: 4),
        Case(fixture: "timeout_slurm.log", category: .timeout, secondary: nil, line: 3),
        Case(fixture: "preempted_spot.log", category: .preempted, secondary: nil, line: 2),
        Case(fixture: "node_failure_xid_then_nccl.log", category: .nodeFailure, secondary: .ncclDistributed, line: 2),
        Case(fixture: "stuck_k8s_failedscheduling.log", category: .stuckScheduling, secondary: nil, line: 4),
        Case(fixture: "mount_failure_stale_handle.log", category: .mountFailure, secondary: nil, line: 5),
        // The registry's answer (manifest unknown), not the kubelet's back-off after it.
        Case(fixture: "image_pull_errimagepull.log", category: .imagePull, secondary: nil, line: 1),
        Case(fixture: "config_error_hydra_override.log", category: .configError, secondary: nil, line: 3),
        Case(fixture: "missing_dep_activation_then_import.log", category: .missingDependency, secondary: nil, line: 2),
        Case(fixture: "data_error_corrupt_image.log", category: .dataError, secondary: nil, line: 5),
        Case(fixture: "nan_loss_logged.log", category: .nanLoss, secondary: nil, line: 4),
        Case(fixture: "nccl_watchdog.log", category: .ncclDistributed, secondary: nil, line: 2),
        Case(fixture: "disk_full_enospc.log", category: .diskFull, secondary: nil, line: 6),
        Case(fixture: "code_error_warnings_then_exception.log", category: .codeError, secondary: nil, line: 7),
        Case(fixture: "segfault_core_dumped.log", category: .segfaultSignal, secondary: nil, line: 6),
        Case(fixture: "network_transient_hub.log", category: .networkTransient, secondary: nil, line: 4),
        Case(fixture: "false_success_zero_examples.log", category: .falseSuccess, secondary: nil, line: 4),
        Case(fixture: "success_noisy.log", category: .success, secondary: nil, line: 7),
    ]

    func testEveryFixtureIsDiagnosedWithItsCategoryAndHeadlineLine() throws {
        for c in CategoryTests.cases {
            let d = try diagnose(fixture: c.fixture)
            XCTAssertEqual(d.category, c.category, "\(c.fixture):\n\(d.render(explain: true))")
            if let s = c.secondary { XCTAssertEqual(d.secondary, s, c.fixture) }
            XCTAssertEqual(d.evidence.first?.line, c.line, "\(c.fixture):\n\(d.render(explain: true))")
            XCTAssertEqual(d.evidence.first?.file, c.fixture)
        }
    }

    func testEveryFailureCategoryHasAFixture() {
        let covered = Set(CategoryTests.cases.map(\.category))
        for category in FailureCategory.allCases where category != .unknown {
            XCTAssertTrue(covered.contains(category), "no fixture for \(category.rawValue)")
        }
    }

    // MARK: - Root cause over symptom

    func testCgroupOOMKillOutranksTheKilledItCauses() throws {
        let d = try diagnose(fixture: "oom_host_cgroup_then_killed.log")
        XCTAssertEqual(d.evidence.first?.rule, "cgroup-oom-kill")
        XCTAssertTrue(d.evidence.contains { $0.rule == "shell-killed" })
    }

    func testXidErrorOutranksTheNCCLWatchdogItTriggers() throws {
        let d = try diagnose(fixture: "node_failure_xid_then_nccl.log")
        XCTAssertEqual(d.category, .nodeFailure)
        XCTAssertEqual(d.evidence.first?.rule, "gpu-hardware-fault")
        XCTAssertEqual(d.secondary, .ncclDistributed)
    }

    func testFailedActivationIsTheRootCauseOfModuleNotFound() throws {
        let d = try diagnose(fixture: "missing_dep_activation_then_import.log")
        XCTAssertEqual(d.evidence.first?.rule, "env-activation-failed")
        XCTAssertTrue(d.evidence.contains { $0.text.contains("No module named 'lightning'") })
        XCTAssertTrue(d.explanation.contains("root cause"), d.explanation)
    }

    func testLastExceptionBeatsWarningsAboveIt() throws {
        let d = try diagnose(fixture: "code_error_warnings_then_exception.log")
        XCTAssertEqual(d.category, .codeError)
        XCTAssertEqual(d.evidence.first?.text, "KeyError: 'optim'")
        // The warnings still fired, as weak hits, for --explain.
        XCTAssertTrue(d.hits.contains { $0.category == .oomGPU && $0.effect == .weak })
    }

    func testActivationFailureAloneDoesNotFailARunThatTrained() throws {
        let d = try diagnose(fixture: "success_noisy.log")
        XCTAssertEqual(d.category, .success, d.render(explain: true))
        XCTAssertNil(d.secondary)
        XCTAssertEqual(d.remedy.kind, RemedyKind.none)
    }

    func testSchedulerOOMWithExitZeroIsOOM() throws {
        let d = try diagnose(fixture: "benign_training.log",
                             scheduler: SchedulerFacts(state: "OUT_OF_MEMORY", exitCode: 0, signal: 125))
        XCTAssertEqual(d.category, .oomHost)
        XCTAssertEqual(d.evidence.first?.file, "scheduler")
    }

    func testUnifiedSchedulerStatesAreEvidenceToo() throws {
        let expected: [(String, FailureCategory)] = [("oom", .oomHost), ("timeout", .timeout), ("preempted", .preempted),
                                                     ("node_fail", .nodeFailure), ("NODE_FAIL", .nodeFailure),
                                                     ("TIMEOUT", .timeout), ("PREEMPTED", .preempted), ("lost", .nodeFailure)]
        for (state, category) in expected {
            let d = try diagnose(fixture: "benign_training.log", scheduler: SchedulerFacts(state: state))
            XCTAssertEqual(d.category, category, state)
        }
    }

    func testSuccessMarkersNeverWinForAFailedRun() throws {
        let log = "step 100 loss 0.5\nTraining completed.\n"
        let d = try diagnose(text: log, scheduler: SchedulerFacts(state: "FAILED", exitCode: 1))
        XCTAssertNotEqual(d.category, .success)
        XCTAssertEqual(d.category, .unknown)
        XCTAssertTrue(d.explanation.contains("FAILED"), d.explanation)
    }

    func testFatalErrorBeatsSchedulerCompleted() throws {
        let log = "RuntimeError: CUDA error: an illegal memory access was encountered\n"
        let d = try diagnose(text: log, scheduler: SchedulerFacts(state: "COMPLETED", exitCode: 0))
        XCTAssertEqual(d.category, .codeError)
    }

    func testCompletedRunWithoutLogsIsSuccess() throws {
        let d = try sharedDiagnoser.diagnose(DiagnosisInput(scheduler: SchedulerFacts(state: "COMPLETED", exitCode: 0)))
        XCTAssertEqual(d.category, .success)
    }

    func testExitCodeAloneGivesAWeakGuess() throws {
        let segv = try sharedDiagnoser.diagnose(DiagnosisInput(scheduler: SchedulerFacts(state: "FAILED", exitCode: 139)))
        XCTAssertEqual(segv.category, .segfaultSignal)
        let killed = try sharedDiagnoser.diagnose(DiagnosisInput(scheduler: SchedulerFacts(state: "failed", signal: 9)))
        XCTAssertEqual(killed.category, .oomHost)
    }

    func testMaxRSSAtTheLimitIsHostOOM() throws {
        let d = try diagnose(fixture: "benign_training.log",
                             scheduler: SchedulerFacts(state: "FAILED", exitCode: 1, maxRSSMB: 63_900, requestedMemoryMB: 65_536))
        XCTAssertEqual(d.category, .oomHost)
    }

    func testTooFewStepsForTheConfigIsFalseSuccess() throws {
        let log = "step 10 loss 2.0\nstep 20 loss 1.9\nTraining completed.\n"
        let d = try diagnose(text: log, scheduler: SchedulerFacts(state: "COMPLETED", exitCode: 0),
                             run: RunFacts(expectedSteps: 10_000))
        XCTAssertEqual(d.category, .falseSuccess, d.render(explain: true))
        let full = try diagnose(text: log, scheduler: SchedulerFacts(state: "COMPLETED", exitCode: 0),
                                run: RunFacts(expectedSteps: 20))
        XCTAssertEqual(full.category, .success)
    }

    /// The last epoch line reached its total; the end summary's "best epoch: 28" names the best
    /// epoch, not the last one, so it does not undo the completion.
    func testABestEpochInTheEndSummaryIsNotTheLastEpoch() throws {
        let log = """
        0/42 of epoch 30/30 class : 0.059 - acc class : 100.00 [bs:128]
        30/42 of epoch 30/30 class : 0.047 - acc class : 100.00 [bs:128]
        Best val 0.967532, corresponding test 0.812675 - best test: 0.812675, best epoch: 28
        It took 557.549

        """
        let d = try diagnose(text: log)
        XCTAssertEqual(d.category, .success, d.render(explain: true))
        XCTAssertEqual(d.progress?.lastEpoch, 30)
        let short = try diagnose(text: log.replacingOccurrences(of: "epoch 30/30", with: "epoch 12/30"))
        XCTAssertNotEqual(short.category, .success, "a run that stopped at epoch 12 of 30 did not complete")
    }

    func testPendingForALegitimateReasonIsNotAFailureToFix() throws {
        let d = try sharedDiagnoser.diagnose(DiagnosisInput(scheduler: SchedulerFacts(state: "PENDING", pendingReason: "Priority")))
        XCTAssertEqual(d.category, .stuckScheduling)
        XCTAssertEqual(d.remedy.kind, RemedyKind.none)
        let blocked = try sharedDiagnoser.diagnose(DiagnosisInput(scheduler: SchedulerFacts(state: "PENDING", pendingReason: "ReqNodeNotAvail")))
        XCTAssertEqual(blocked.remedy.kind, .resubmitElsewhere)
    }

    func testNothingMatchedIsUnknown() throws {
        let d = try diagnose(fixture: "benign_training.log")
        XCTAssertEqual(d.category, .unknown)
        XCTAssertTrue(d.evidence.isEmpty)
    }
}
