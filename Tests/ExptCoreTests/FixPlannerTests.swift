import XCTest
import ExptTestSupport
@testable import ExptCore
import ExptModel
import ExptDiagnosis

/// The decisions of fix-and-relaunch, from real diagnoses of small logs.
final class FixPlannerTests: XCTestCase {
    /// Parsing the built-in rules (~150 regexes) once for the whole class, not once per plan.
    static let diagnoser = try! Diagnoser(rules: RuleSet.builtin())

    let oomLog = "step 10\nslurmstepd: error: Detected 1 oom-kill event(s) in StepId=12.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n"
    let codeLog = "Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    cfg['lr']\nKeyError: 'lr'\n"
    let timeoutLog = "step 900\nslurmstepd: error: *** JOB 77 ON node1 CANCELLED AT 2026-11-24T10:00:00 DUE TO TIME LIMIT ***\n"

    func config(_ extra: String = "") throws -> ExptConfig {
        var c = ExptConfig()
        try c.apply(text: "command = \"python3 train.py\"\nresume_command = \"python3 train.py --resume {checkpoint}\"\ncheckpoint_glob = \"ck/*.pt\"\n" + extra, file: "expt.toml", backends: BackendRegistry.fakes("local", "slurm"))
        return c
    }

    func run(_ id: String, state: JobState, mem: Int = 4096, time: Int = 3600, parent: String? = nil,
             profile: String? = nil, diagnosis: String? = nil) -> RunRecord {
        RunRecord(id: id, seq: Int(id.dropFirst())!, branch: "e", attempt: 1, parentRun: parent, backend: "local",
                  jobID: "\(id).1", commit: String(repeating: "a", count: 40), profile: profile,
                  resources: Resources(memoryMB: mem, timeLimitSeconds: time), state: state, diagnosis: diagnosis,
                  createdAt: Date(), updatedAt: Date())
    }

    func diagnose(_ log: String, state: String, failed: RunRecord, config: ExptConfig, checkpoints: [String] = []) throws -> Diagnosis {
        try Self.diagnoser.diagnose(DiagnosisInput(
            logs: [LogInput(label: "stderr.log", text: log)], scheduler: SchedulerFacts(state: state),
            checkpoints: checkpoints,
            run: RunFacts(memoryMB: failed.resources.memoryMB, timeLimitSeconds: failed.resources.timeLimitSeconds,
                          memoryCapMB: config.retry.memoryCapMB, profiles: config.profiles.keys.sorted())))
    }

    func plan(_ log: String, state: String, failed: RunRecord, config: ExptConfig, options: FixOptions = FixOptions(),
              changes: [String] = [], previous: FixPlan? = nil, history: [RunRecord]? = nil,
              checkpoints: [String] = ["/w/ck/step-5.pt"]) throws -> FixPlan {
        let d = try diagnose(log, state: state, failed: failed, config: config, checkpoints: checkpoints)
        return try FixPlanner.plan(FixContext(branch: "e", failed: failed, diagnosis: d, config: config, options: options,
                                              userChanges: changes, previousPlan: previous, history: history ?? [failed],
                                              newRun: "r9", worktree: "/w"))
    }

    func testHostOOMPrefersTheFittingProfileAndResumes() throws {
        let c = try config("[profiles.highmem]\nmem = \"16G\"\n[profiles.huge]\nmem = \"64G\"\n")
        let p = try plan(oomLog, state: "OUT_OF_MEMORY", failed: run("r1", state: .oom), config: c)
        XCTAssertEqual(p.category, "oom_host")
        XCTAssertEqual(p.profile, "highmem", "the smallest profile that holds ×1.5")
        XCTAssertEqual(p.resources.memoryMB, 16384)
        XCTAssertEqual(p.resumeFrom, "ck/step-5.pt")
        XCTAssertTrue(p.changeSummary.contains("memory 4G → 16G"), p.changeSummary)
    }

    func testHostOOMWithoutProfilesEscalatesMemoryUpToTheCapThenRefuses() throws {
        let c = try config("[retry]\nmemory_cap = \"8G\"\n")
        let p = try plan(oomLog, state: "OUT_OF_MEMORY", failed: run("r1", state: .oom), config: c)
        XCTAssertEqual(p.resources.memoryMB, 6144)
        XCTAssertThrowsError(try plan(oomLog, state: "OUT_OF_MEMORY", failed: run("r2", state: .oom, mem: 8192), config: c)) {
            XCTAssertTrue("\($0)".contains("cap"), "refused at the memory cap: \($0)")
        }
    }

    func testCodeErrorNeedsAChangeAndAcceptsOne() throws {
        let c = try config()
        XCTAssertThrowsError(try plan(codeLog, state: "FAILED", failed: run("r1", state: .failed), config: c)) {
            XCTAssertTrue("\($0)".contains("needs a code or config change"), "\($0)")
        }
        let p = try plan(codeLog, state: "FAILED", failed: run("r1", state: .failed), config: c, changes: ["train.py"])
        XCTAssertEqual(p.userChanges, ["train.py"])
        XCTAssertEqual(p.resources, run("r1", state: .failed).resources, "no blind resource change")
    }

    func testTimeoutResumesWithALongerLimitAndRestartWins() throws {
        let c = try config()
        let p = try plan(timeoutLog, state: "TIMEOUT", failed: run("r1", state: .timeout), config: c)
        XCTAssertEqual(p.category, "timeout")
        XCTAssertEqual(p.resources.timeLimitSeconds, 5400)
        XCTAssertEqual(p.resumeFrom, "ck/step-5.pt")
        var o = FixOptions(); o.resume = false
        XCTAssertNil(try plan(timeoutLog, state: "TIMEOUT", failed: run("r1", state: .timeout), config: c, options: o).resumeFrom)
        o.resume = true
        XCTAssertThrowsError(try plan(timeoutLog, state: "TIMEOUT", failed: run("r1", state: .timeout), config: c, options: o, checkpoints: []))
    }

    func testRetryBudgetCountsFailuresAndPreemptionsApart() throws {
        let c = try config("[retry]\nmax_failures = 2\n")
        let history = [run("r1", state: .failed, diagnosis: "code_error"), run("r2", state: .oom, diagnosis: "oom_host")]
        XCTAssertThrowsError(try plan(oomLog, state: "OUT_OF_MEMORY", failed: history[1], config: c, history: history)) {
            XCTAssertTrue("\($0)".contains("failure budget is spent"), "\($0)")
        }
        let preempted = [run("r1", state: .preempted, diagnosis: "preempted"), run("r2", state: .preempted, diagnosis: "preempted"),
                         run("r3", state: .preempted, diagnosis: "preempted")]
        let p = try plan("slurmstepd: error: *** JOB 5 ON n1 CANCELLED AT 2026-11-24T10:00:00 DUE TO PREEMPTION ***\n",
                         state: "PREEMPTED", failed: preempted[2], config: c, history: preempted)
        XCTAssertEqual(p.category, "preempted")
        XCTAssertEqual(p.resumeFrom, "ck/step-5.pt")
    }

    func testSameDiagnosisAfterTheSameFixStopsTheLoop() throws {
        let c = try config()
        let first = try plan(codeLog, state: "FAILED", failed: run("r1", state: .failed), config: c, changes: ["train.py"])
        let relaunched = run("r9", state: .failed, parent: "r1")
        XCTAssertThrowsError(try plan(codeLog, state: "FAILED", failed: relaunched, config: c, previous: first)) {
            XCTAssertTrue("\($0)".contains("code or config change"), "\($0)")
        }
        let preempt = "slurmstepd: error: *** JOB 5 ON n1 CANCELLED AT 2026-11-24T10:00:00 DUE TO PREEMPTION ***\n"
        let p1 = try plan(preempt, state: "PREEMPTED", failed: run("r1", state: .preempted), config: c)
        XCTAssertThrowsError(try plan(preempt, state: "PREEMPTED", failed: run("r9", state: .preempted, parent: "r1"),
                                      config: c, previous: p1)) {
            XCTAssertTrue("\($0)".contains("same diagnosis"), "\($0)")
        }
        XCTAssertNoThrow(try plan(preempt, state: "PREEMPTED", failed: run("r9", state: .preempted, parent: "r1"),
                                  config: c, previous: p1, checkpoints: ["/w/ck/step-9.pt"]), "a newer checkpoint is progress")
    }

    // MARK: - The pure steps alone, on hand-made diagnoses

    func context(_ d: Diagnosis, failed: RunRecord, config: ExptConfig, options: FixOptions = FixOptions(),
                 history: [RunRecord]? = nil) -> FixContext {
        FixContext(branch: "e", failed: failed, diagnosis: d, config: config, options: options,
                   history: history ?? [failed], newRun: "r9", worktree: "/w")
    }

    func testInterruptionsAreCountedByCategoryNotByString() throws {
        let c = try config("[retry]\nmax_preemptions = 1\nmax_failures = 1\n")
        XCTAssertTrue(FixPlanner.isInterruption(run("r1", state: .nodeFail, diagnosis: "node_failure")))
        XCTAssertFalse(FixPlanner.isInterruption(run("r1", state: .failed, diagnosis: "code_error")))
        XCTAssertFalse(FixPlanner.isInterruption(run("r1", state: .failed, diagnosis: "not-a-category")))
        let node = Diagnosis(category: .nodeFailure, remedy: Remedy(kind: .retry, description: "relaunch"))
        let two = [run("r1", state: .nodeFail, diagnosis: "node_failure"), run("r2", state: .preempted, diagnosis: "preempted")]
        XCTAssertThrowsError(try FixPlanner.checkBudget(context(node, failed: two[1], config: c, history: two))) {
            XCTAssertTrue("\($0)".contains("preemption budget is spent: 2"), "\($0)")
        }
        // One failure spends max_failures = 1 for failures, not for interruptions.
        let mixed = [run("r1", state: .failed, diagnosis: "code_error"), run("r2", state: .preempted, diagnosis: "preempted")]
        XCTAssertNoThrow(try FixPlanner.checkBudget(context(node, failed: mixed[1], config: c, history: mixed)))
    }

    func testMemoryEscalationIsCappedAndAHandSetMemoryWins() throws {
        let c = try config("[retry]\nmemory_cap = \"8G\"\n[profiles.small]\nmem = \"2G\"\n")
        let oom = Diagnosis(category: .oomHost, remedy: Remedy(kind: .escalateResources, description: "more memory",
                                                                  change: RemedyChange(memoryMB: 12288)))
        let failed = run("r1", state: .oom)
        XCTAssertNil(FixPlanner.fittingProfile(context(oom, failed: failed, config: c)), "no profile holds 12G")
        XCTAssertEqual(try FixPlanner.chooseResources(context(oom, failed: failed, config: c)).resources.memoryMB, 8192)
        var o = FixOptions(); o.overrides.memoryMB = 5000
        XCTAssertEqual(try FixPlanner.chooseResources(context(oom, failed: failed, config: c, options: o)).resources.memoryMB, 5000)
        o = FixOptions(); o.profile = "nope"
        XCTAssertThrowsError(try FixPlanner.chooseResources(context(oom, failed: failed, config: c, options: o))) {
            XCTAssertTrue("\($0)".contains("known profiles: small"), "\($0)")
        }
    }

    func testGPUOOMRescalesTheBatchOnlyWhenRunDeclaresIt() throws {
        let gpu = Diagnosis(category: .oomGPU, remedy: Remedy(kind: .escalateResources, description: "smaller batch",
                                                                 change: RemedyChange(batchSize: 24, gradAccumulation: 2)))
        let failed = run("r1", state: .failed)
        let declared = try config("[run]\nbatch_size = 32\n")
        let r = FixPlanner.rescaleBatch(context(gpu, failed: failed, config: declared))
        XCTAssertEqual(r.batchSize, 24)
        XCTAssertEqual(r.gradAccumulation, 2)
        XCTAssertNil(FixPlanner.rescaleBatch(context(gpu, failed: failed, config: try config())).batchSize, "nowhere to write it")
        let plan = try FixPlanner.plan(context(gpu, failed: failed, config: declared))
        XCTAssertEqual(plan.batchSize, 24)
        XCTAssertTrue(plan.changeSummary.contains("batch size → 24, gradient accumulation → 2"), plan.changeSummary)
    }

    func testResumePathIsMadeRelativeToTheWorktree() throws {
        let d = Diagnosis(category: .timeout, resumable: true, checkpoint: "/w/ck/step-7.pt",
                          remedy: Remedy(kind: .resume, description: "resume"))
        XCTAssertEqual(try FixPlanner.chooseResume(context(d, failed: run("r1", state: .timeout), config: try config())), "ck/step-7.pt")
        var noResumeCommand = ExptConfig()
        try noResumeCommand.apply(text: "command = \"python3 train.py\"\n", file: "expt.toml", backends: BackendRegistry.fakes("local", "slurm"))
        XCTAssertNil(try FixPlanner.chooseResume(context(d, failed: run("r1", state: .timeout), config: noResumeCommand)),
                     "no resume_command: restart")
    }

    func testPlanJSONKeepsItsShape() throws {
        let p = try plan(oomLog, state: "OUT_OF_MEMORY", failed: run("r1", state: .oom), config: try config())
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(p)) as? [String: Any])
        XCTAssertEqual(json["category"] as? String, "oom_host")
        XCTAssertEqual(json["remedyKind"] as? String, "escalate_resources")
        XCTAssertEqual(json["newRun"] as? String, "r9")
    }
}
