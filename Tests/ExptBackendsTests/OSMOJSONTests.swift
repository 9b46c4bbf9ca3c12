import XCTest
import ExptModel
@testable import ExptBackends
import ExptTestSupport

/// The project's OSMO samples (Fixtures/osmo, see SOURCES.md there).
enum OSMOFixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/osmo")
    static func text(_ name: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) }
    static func workflow(_ name: String) throws -> OSMOWorkflow { try OSMOJSON.workflow(text(name), command: "osmo workflow query \(name)") }
    static func pools() throws -> [OSMOPool] { try OSMOJSON.pools(text("evalfixture-pool_list.json"), command: "osmo pool list") }
    static func result(_ status: Int32, _ name: String) throws -> ProcessResult {
        ProcessResult(argv: ["osmo"], status: status, stdout: try text(name), stderr: "")
    }
}

final class OSMOJSONTests: XCTestCase {
    // MARK: the rendered workflow and lookup

    /// An interrupted launch of a rendered workflow is found by its name: the newest
    /// `<job name>-<N>`, not a workflow whose name only starts the same way.
    func testLookupFindsTheRenderedWorkflowByTheRunsName() throws {
        let runner = FakeProcessRunner(checkedBy: self)
        let list = try OSMOFixtures.text("list.json")
            .replacingOccurrences(of: "expt-train-4", with: "expt-r1-train-2")
            .replacingOccurrences(of: "expt-train-9", with: "expt-r1-train-10")
            .replacingOccurrences(of: "expt-train-6", with: "expt-r1-trainee-11")
        runner.expect(["osmo", "workflow", "list", "--count", "20", "--name", "expt-r1-train", "--format-type", "json"], stdout: list)
        let dir = NSTemporaryDirectory() + "osmo-lookup-" + UUID().uuidString
        let b = OSMOBackend(settings: OSMOSettings(image: "ubuntu:24.04", rateLimitBackoff: []), runner: runner, runsDir: dir)
        let spec = JobSpec(runID: "r1", branch: "train", jobName: JobSpec.jobName(runID: "r1", branch: "train"), workdir: dir,
                           command: "true", environment: [:], resources: Resources(), logDir: dir)
        XCTAssertEqual(OSMOTemplate.workflowName(spec.jobName), "expt-r1-train")
        XCTAssertEqual(try b.lookup(jobName: spec.jobName, spec: spec)?.jobID, "expt-r1-train-10", "the highest N, by number")
        XCTAssertNil(try OSMOBackend(settings: OSMOSettings(workflowFile: "w.yaml"), runner: runner, runsDir: dir)
            .lookup(jobName: spec.jobName, spec: spec), "a repository's file names its own workflow: nothing to claim")
    }

    func testWorkflowNamesFollowOSMOsPattern() {
        XCTAssertEqual(OSMOTemplate.workflowName("expt.r12.feat/lr_sweep."), "expt-r12-feat-lr_sweep")
        XCTAssertEqual(OSMOTemplate.workflowName("9lives"), "expt-9lives")
        XCTAssertEqual(OSMOTemplate.json("say \"hi\": #1\n"), #""say \"hi\": #1\n""#)
    }

    // MARK: submit, list, times

    func testSubmitResultJSONTextAndRestart() throws {
        let json = try OSMOJSON.submitResult(OSMOFixtures.text("submit.json"), command: "osmo workflow submit")
        XCTAssertEqual(json.workflowID, "expt-train-4")
        XCTAssertEqual(json.overview, "https://osmo.example.com/workflows/expt-train-4")
        XCTAssertEqual(json.logs, "https://osmo.example.com/api/workflow/expt-train-4/logs")
        XCTAssertEqual(json.dashboardURL, "https://k8s.example.com/#/workload?namespace=osmo-prod")
        XCTAssertEqual(json.warnings, [])
        let text = try OSMOJSON.submitResult(OSMOFixtures.text("evalfixture-submit_response.txt"), command: "osmo workflow submit")
        XCTAssertEqual(text, OSMOSubmitResult(workflowID: "gr00t-train-1", overview: "https://osmo.example.com/workflows/gr00t-train-1",
                                              dashboardURL: "https://k8s.example.com/dashboard/gr00t-train-1"))
        XCTAssertEqual(try OSMOJSON.submitResult(OSMOFixtures.text("restart.json"), command: "osmo workflow restart").workflowID,
                       "expt-pipeline-3")
    }

    func testListEntries() throws {
        let list = try OSMOJSON.workflows(OSMOFixtures.text("list.json"), command: "osmo workflow list")
        XCTAssertEqual(list.map(\.workflowID), ["expt-train-4", "expt-train-6", "expt-train-7", "expt-train-9"])
        XCTAssertEqual(list.map(\.status), ["FAILED_EVICTED", "FAILED_QUEUE_TIMEOUT", "RUNNING", "PENDING"])
        XCTAssertEqual(list[0].startTime, Date(timeIntervalSince1970: 1_795_168_900))
        XCTAssertEqual(list[0].durationSeconds, 752)
        XCTAssertEqual(list[1].queuedSeconds, 21_600)
        XCTAssertNil(list[1].startTime)
        XCTAssertEqual(list[3].pool, "l40s-batch")
        XCTAssertNotEqual(list[0].changeKey, list[2].changeKey)
        XCTAssertEqual(try OSMOJSON.workflows(OSMOFixtures.text("list-empty.json"), command: "osmo workflow list"), [])
        let vendor = try OSMOJSON.workflows(OSMOFixtures.text("evalfixture-workflow_list.json"), command: "osmo workflow list")
        XCTAssertEqual(vendor.count, 5)
        XCTAssertEqual(vendor[0].submitTime, Date(timeIntervalSince1970: 1_778_004_000))   // "…T18:00:00.000000"
        XCTAssertEqual(vendor.map { OSMOStatus.isAlive(workflowStatus: $0.status) }, [true, true, true, false, false])
    }

    func testTimesAndDurations() {
        let t = Date(timeIntervalSince1970: 1_795_168_900)
        for text in ["2026-11-20T10:01:40", "2026-11-20T10:01:40Z", "2026-11-20 10:01:40+00:00", "2026-11-20T11:01:40+01:00"] {
            XCTAssertEqual(OSMOTime.parse(text), t, text)
        }
        XCTAssertEqual(OSMOTime.parse("2026-11-20T10:01:40.5")?.timeIntervalSince1970, 1_795_168_900.5)
        XCTAssertNil(OSMOTime.parse("yesterday"))
        XCTAssertEqual(OSMOTime.seconds("90.5"), 90.5)
        XCTAssertEqual(OSMOTime.seconds("PT1H30M"), 5400)
        XCTAssertEqual(OSMOTime.seconds("P1DT2S"), 86_402)
        XCTAssertNil(OSMOTime.seconds("soon"))
    }

    // MARK: statuses, tasks, root causes

    func testOOMAsTheServiceReportsIt() throws {
        let wf = try OSMOFixtures.workflow("query-oom-evicted.json")
        XCTAssertEqual(wf.status, "FAILED_EVICTED")
        XCTAssertEqual(wf.pool, "h100-east")
        XCTAssertEqual(wf.overview, "https://osmo.example.com/workflows/expt-train-4")
        XCTAssertEqual(wf.execTimeoutSeconds, 28_800)
        XCTAssertEqual(OSMOStatus.jobState(of: wf), .oom)
        let views = OSMOTasks.views(of: wf)
        XCTAssertEqual(views.count, 1)
        XCTAssertEqual(views[0].task.exitCode, 3004)
        XCTAssertEqual(views[0].category, "oom_host")
        XCTAssertTrue(views[0].isRootCause)
        let status = views[0].taskStatus
        XCTAssertEqual(status.index, 0)
        XCTAssertEqual(status.state, .oom)
        XCTAssertEqual(status.rawState, "FAILED_EVICTED")
        XCTAssertEqual(status.exitCode, 3004)
        XCTAssertEqual(status.message, "train: FAILED_EVICTED, exit 3004 (evicted (OOMKilled, or node pressure)); root cause: "
                       + "Failure reason: - Exit code 137 due to Task train failure.")
        // OSMO's eval fixture: a plain FAILED with 137 and OOMKilled in the message
        let vendor = try OSMOFixtures.workflow("evalfixture-workflow_query_oom.json")
        XCTAssertEqual(OSMOStatus.jobState(of: vendor), .oom)
        XCTAssertEqual(OSMOTasks.exitCode(of: vendor), 137)
        XCTAssertEqual(OSMOStatus.category(status: "FAILED", exitCode: 137, message: nil), "oom_host")
    }

    func testMountFailureQueueTimeoutAndCompleted() throws {
        let mount = try OSMOFixtures.workflow("query-mount-2011.json")
        XCTAssertEqual(OSMOStatus.jobState(of: mount), .failed)
        XCTAssertEqual(OSMOTasks.views(of: mount)[0].category, "mount_failure")
        XCTAssertEqual(OSMOExitCode.meaning(2011), "mount failed")
        let queue = try OSMOFixtures.workflow("query-queue-timeout.json")
        XCTAssertEqual(OSMOStatus.jobState(of: queue), .failed)
        XCTAssertEqual(OSMOStatus.category(status: queue.status, exitCode: nil, message: nil), "stuck_scheduling")
        XCTAssertEqual(OSMOTasks.views(of: queue)[0].task.failureMessage, "Task stayed in queue longer than the set limit of 6 hours.")
        let done = try OSMOFixtures.workflow("query-completed.json")
        XCTAssertEqual(OSMOStatus.jobState(of: done), .succeeded)
        XCTAssertNil(OSMOTasks.rootCause(of: done))
        XCTAssertEqual(OSMOTasks.views(of: done)[0].category, "success")
        for (name, state) in [("evalfixture-workflow_query_pending.json", JobState.pending), ("evalfixture-workflow_query_sdg.json", .succeeded),
                              ("evalfixture-workflow_query_single_task.json", .running), ("evalfixture-workflow_query_badimage.json", .pending)] {
            let wf = try OSMOFixtures.workflow(name)
            XCTAssertEqual(OSMOStatus.jobState(of: wf), state, name)
            XCTAssertEqual(OSMOTasks.taskStatuses(of: wf).map(\.state), [state], name)
        }
    }

    func testStatusTable() {
        let workflow: [String: JobState] = ["PENDING": .pending, "WAITING": .running, "FAILED_EXEC_TIMEOUT": .timeout,
                                            "FAILED_PREEMPTED": .preempted, "FAILED_CANCELED": .cancelled,
                                            "FAILED_BACKEND_ERROR": .nodeFail, "FAILED_IMAGE_PULL": .failed, "SOMETHING_NEW": .running]
        for (s, state) in workflow { XCTAssertEqual(OSMOStatus.jobState(workflowStatus: s), state, s) }
        let task: [String: JobState] = ["SCHEDULING": .pending, "INITIALIZING": .pending, "RESCHEDULED": .pending,
                                        "FAILED_UPSTREAM": .cancelled, "FAILED_START_TIMEOUT": .failed]
        for (s, state) in task { XCTAssertEqual(OSMOStatus.jobState(taskStatus: s), state, s) }
        XCTAssertEqual(OSMOStatus.jobState(taskStatus: "FAILED", exitCode: 3006), .preempted)
        XCTAssertEqual(OSMOStatus.jobState(taskStatus: "FAILED_EVICTED", message: "The node was low on resource: ephemeral-storage."), .failed)
        XCTAssertEqual(OSMOStatus.category(status: "FAILED_EVICTED", exitCode: 3004, message: "low on resource: ephemeral-storage"), "disk_full")
        XCTAssertEqual(OSMOStatus.category(status: "FAILED", exitCode: 1, message: nil), nil)
        XCTAssertEqual(OSMOStatus.category(status: "FAILED", exitCode: 2010, message: nil), "data_error")
        XCTAssertEqual(OSMOStatus.category(status: "FAILED", exitCode: 301, message: nil), "image_pull")
        XCTAssertEqual(OSMOStatus.category(status: "FAILED_START_TIMEOUT", exitCode: 3005, message: nil), "image_pull")
        XCTAssertNil(OSMOStatus.category(status: "FAILED_UPSTREAM", exitCode: 3000, message: nil))
    }

    func testUpstreamAndSiblingsAreNotRootCauses() throws {
        let wf = try OSMOFixtures.workflow("query-groups-upstream.json")
        XCTAssertEqual(OSMOTasks.rootCause(of: wf)?.name, "rank0")      // exit 1 beats evaluate's 3000
        XCTAssertEqual(OSMOTasks.exitCode(of: wf), 1)
        XCTAssertEqual(OSMOStatus.jobState(of: wf), .failed)
        let views = OSMOTasks.views(of: wf)
        XCTAssertEqual(views.map(\.name), ["evaluate", "prep", "rank0", "rank1"])
        XCTAssertEqual(views.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(views.map(\.state), [.cancelled, .succeeded, .failed, .failed])
        XCTAssertEqual(views.map(\.isRootCause), [false, false, true, false])
        XCTAssertEqual(views[2].task.group, "train")
        XCTAssertTrue(views[0].taskStatus.message?.hasPrefix("evaluate (group eval): FAILED_UPSTREAM, exit 3000") == true)
        XCTAssertTrue(views[0].taskStatus.message?.contains("not a root cause: an upstream group failed") == true)
        XCTAssertTrue(views[3].taskStatus.message?.contains("not a root cause: stopped because another task") == true)
        // a given order is kept; the restart (only the failed groups) keeps its parent's indices
        let order = views.map(\.name)
        XCTAssertEqual(OSMOTasks.views(of: wf, order: ["rank0", "rank1"]).map(\.name), ["rank0", "rank1", "evaluate", "prep"])
        let restart = try OSMOFixtures.workflow("query-restart-running.json")
        XCTAssertEqual(restart.parentName, "expt-pipeline-2")
        XCTAssertEqual(OSMOTasks.taskStatuses(of: restart, order: order).map(\.index), [0, 2, 3])
        XCTAssertEqual(OSMOTasks.taskStatuses(of: restart, order: order).map(\.state), [.pending, .running, .running])
    }

    func testRetriesAndPreemptions() throws {
        let wf = try OSMOFixtures.workflow("query-rescheduled-verbose.json")
        XCTAssertEqual(wf.allTasks.map(\.retryID), [1, 0])
        let view = try XCTUnwrap(OSMOTasks.views(of: wf).first)
        XCTAssertEqual(view.task.retryID, 1)
        XCTAssertEqual(view.attempts, 2)
        XCTAssertEqual(view.preemptions, 1)
        XCTAssertEqual(view.state, .running)
        XCTAssertEqual(view.taskStatus.message, "train (retry 1): RUNNING")
        XCTAssertEqual(OSMOStatus.jobState(of: wf), .running)
    }

    // MARK: pools

    func testPoolsAndNodes() throws {
        let pools = try OSMOFixtures.pools()
        XCTAssertEqual(pools.map(\.name), ["default", "h100-east", "h100-west", "gb200-shared", "l40s-batch"])
        let east = pools[1]
        XCTAssertEqual(east.platforms, ["x86-h100": "H100 80GB"])
        XCTAssertEqual([east.quotaFree, east.totalFree, east.quotaLimit], [8, 12, 16])
        XCTAssertEqual(east.freeGPUs(), 8)
        XCTAssertEqual(east.freeGPUs(priority: "LOW"), 12)
        XCTAssertEqual(east.nodeSet, 1)
        XCTAssertFalse(pools[0].isUsable)
        let nodes = try OSMOJSON.nodes(OSMOFixtures.text("evalfixture-resource_list.json"), command: "osmo resource list")
        XCTAssertEqual(nodes.count, 6)
        XCTAssertEqual(nodes[0].hostname, "osmo-iad1-h100-7e3a2")
        XCTAssertEqual(nodes[0].poolPlatforms, ["h100-east": ["x86-h100"]])
        XCTAssertEqual(nodes[0].availableGPUs, ["h100-east": ["x86-h100": 2]])
        XCTAssertEqual(nodes[0].allocatableGPUs, ["h100-east": ["x86-h100": 8]])
        XCTAssertEqual(OSMOPools.free(in: east, type: "H100", nodes: nodes, priority: "LOW"), 10)
        XCTAssertEqual(OSMOPools.free(in: east, type: "H100", nodes: nodes, priority: "NORMAL"), 8)
    }

    func testPoolChoice() throws {
        let pools = try OSMOFixtures.pools()
        let h100 = try OSMOPools.choose(gpus: 4, gpuType: "H100", pools: pools)
        XCTAssertEqual(h100.pool, "h100-east")
        XCTAssertTrue(h100.fits)
        XCTAssertEqual(h100.freeGPUs, 8)
        XCTAssertFalse(h100.explicit)
        XCTAssertEqual(h100.why, "h100-east: 8 GPUs free for the 4 requested (quota free 8, free on nodes 12); platform x86-h100 "
                       + "matches H100. Not chosen: default (OFFLINE), gb200-shared (not H100), l40s-batch (not H100), h100-west (0 free)")
        let queued = try OSMOPools.choose(gpus: 16, gpuType: "h100", pools: pools)
        XCTAssertEqual(queued.pool, "h100-east")
        XCTAssertFalse(queued.fits)
        XCTAssertTrue(queued.why.contains("will queue"))
        XCTAssertEqual(try OSMOPools.choose(gpus: 8, gpuType: "GB200", pools: pools).pool, "gb200-shared")
        XCTAssertEqual(try OSMOPools.choose(gpus: 2, gpuType: nil, pools: pools).pool, "l40s-batch")
        XCTAssertEqual(try OSMOPools.choose(gpus: 4, gpuType: "L40S", pools: pools).pool, "l40s-batch")
        for type in ["L40", "B200", "A100"] {            // whole tokens only: l40s is not L40, gb200 is not B200
            XCTAssertThrowsError(try OSMOPools.choose(gpus: 1, gpuType: type, pools: pools), type) { error in
                XCTAssertEqual((error as? ExptError)?.kind, .invalidInput)
            }
        }
        let nodes = try OSMOJSON.nodes(OSMOFixtures.text("evalfixture-resource_list.json"), command: "osmo resource list")
        XCTAssertTrue(try OSMOPools.choose(gpus: 11, gpuType: "H100", pools: pools, priority: "LOW").fits)          // 12 on the pool
        XCTAssertFalse(try OSMOPools.choose(gpus: 11, gpuType: "H100", pools: pools, nodes: nodes, priority: "LOW").fits)  // 10 on its nodes
        let explicit = try OSMOPools.choose(gpus: 4, gpuType: "L40S", explicit: "h100-west", pools: pools)
        XCTAssertEqual(explicit.pool, "h100-west")
        XCTAssertTrue(explicit.explicit)
        XCTAssertFalse(explicit.fits)
        XCTAssertEqual(try OSMOPools.choose(gpus: 4, gpuType: nil, explicit: "anything", pools: []).pool, "anything")
        XCTAssertThrowsError(try OSMOPools.choose(gpus: 4, gpuType: nil, explicit: "nowhere", pools: pools))
        XCTAssertThrowsError(try OSMOPools.choose(gpus: 4, gpuType: nil, pools: []))
        XCTAssertEqual(OSMOPools.match("RTX 6000", OSMOPool(name: "ws", platforms: ["rtx-6000-ada": ""])), "platform rtx-6000-ada")
        XCTAssertEqual(OSMOPools.match("h100", OSMOPool(name: "east", description: "H100 east")), "pool description \"H100 east\"")
    }

    // MARK: CLI errors, outputs, commands

    func testCLIFailures() throws {
        let argv = ["osmo", "workflow", "list", "--format-type", "json"]
        XCTAssertNil(OSMOCLI.failure(ProcessResult(argv: argv, status: 0, stdout: "{}", stderr: ""), argv))
        let login = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(2, "error-not-logged-in.json.txt"), argv))
        XCTAssertEqual(login.kind, .error)
        XCTAssertTrue(login.notLoggedIn)
        XCTAssertEqual(login.code, 1)
        XCTAssertEqual(login.exptError.kind, .external)
        XCTAssertTrue(login.exptError.hint?.contains("osmo login") == true)
        XCTAssertTrue(try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(2, "error-not-logged-in.text.txt"), argv)).notLoggedIn)
        let pool = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(2, "error-unknown-pool.json.txt"), argv))
        XCTAssertEqual(pool.unknownPool, "h100-nowhere")
        XCTAssertEqual(pool.exptError.kind, .invalidInput)
        let invalid = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(1, "error-validation.json.txt"), argv))
        XCTAssertEqual(invalid.kind, .rejected)
        XCTAssertEqual(invalid.code, 400)
        XCTAssertTrue(invalid.message.hasPrefix("Workflow expt-train submit failed:\n1 validation error for VersionedWorkflowSpec"))
        XCTAssertEqual(invalid.exptError.kind, .invalidInput)
        XCTAssertEqual(try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(1, "error-jinja.json.txt"), argv)).kind, .rejected)
        let limited = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(75, "error-rate-limited.json.txt"), argv))
        XCTAssertEqual(limited.kind, .rateLimited)
        XCTAssertEqual(limited.code, 429)
        XCTAssertTrue(limited.retryable)
        let down = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(10, "error-unreachable.json.txt"), argv))
        XCTAssertEqual(down.kind, .unreachable)
        XCTAssertTrue(down.message.hasPrefix("Cannot connect to OSMO service"))
        let restart = try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(2, "error-restart-not-failed.json.txt"), argv))
        XCTAssertTrue(restart.message.hasSuffix("has status WorkflowStatus.COMPLETED"))
        XCTAssertEqual(restart.exptError.kind, .external)
        XCTAssertEqual(try XCTUnwrap(OSMOCLI.failure(OSMOFixtures.result(2, "error-workflow-not-found.json.txt"), argv)).exptError.kind, .notFound)
        let missing = try XCTUnwrap(OSMOCLI.failure(ProcessResult(argv: argv, status: 127, stdout: "", stderr: "bash: osmo: command not found"), argv))
        XCTAssertEqual(missing.exptError.kind, .external)
        XCTAssertTrue(missing.exptError.message.hasPrefix("osmo is not installed"))
        XCTAssertThrowsError(try OSMOCLI.check(OSMOFixtures.result(75, "error-rate-limited.json.txt"), argv))
        XCTAssertEqual(OSMOCLI.cancelOutcome(try OSMOFixtures.result(0, "cancel-ok.txt"), workflowID: "expt-train-7"), .requested)
        XCTAssertEqual(OSMOCLI.cancelOutcome(try OSMOFixtures.result(0, "cancel-already-finished.txt"), workflowID: "expt-train-8"),
                       .alreadyFinished)
        let logs = OSMOCLI.logText(try OSMOFixtures.text("logs-train-retry1.txt"))
        XCTAssertTrue(logs.truncated)
        XCTAssertTrue(logs.text.hasPrefix("2026/11/20 11:02:10 [train retry-1][osmo] Downloading inputs\n"))
        XCTAssertFalse(logs.text.contains("Log stream"))
    }

    func testDecodingErrorsNameTheCommandAndField() throws {
        func message(_ json: String) -> String {
            do { _ = try OSMOJSON.workflow(json, command: "osmo workflow query X --verbose --format-type json"); return "" }
            catch { return (error as? ExptError)?.message ?? "\(error)" }
        }
        XCTAssertEqual(message(#"{"name": "x-1"}"#),
                       "could not parse the output of `osmo workflow query X --verbose --format-type json`: missing field 'status'")
        XCTAssertTrue(message(#"{"name": "x-1", "status": "RUNNING", "groups": [{"name": "g", "status": "RUNNING", "tasks": [{"name": "t"}]}]}"#)
            .hasSuffix("missing field 'groups[0].tasks[0].status'"))
        XCTAssertTrue(message(#"{"name": "x-1", "status": 3}"#).hasSuffix("field 'status' is not a string"))
        XCTAssertTrue(message("Error message: Must login first\nError code: 1").contains("expected JSON"))
        XCTAssertTrue(message(#"{"name": "x-1", "status": "RUN"#).contains("malformed"))
        XCTAssertThrowsError(try OSMOJSON.workflows(#"{"message": "Must login first", "code": 1}"#, command: "osmo workflow list"))
        let lenient = try OSMOJSON.workflow(#"{"name": "x-1", "status": "FAILED", "groups": [{"name": "g", "status": "FAILED", "tasks": "#
            + #"[{"name": "t", "status": "FAILED", "exit_code": "137", "retry_id": 1.0, "start_time": "not a time"}]}]}"#, command: "q")
        XCTAssertEqual(lenient.allTasks.first?.exitCode, 137)
        XCTAssertEqual(lenient.allTasks.first?.retryID, 1)
        XCTAssertNil(lenient.allTasks.first?.startTime)
    }

    func testDeclaredOutputs() throws {
        XCTAssertEqual(OSMOOutputs.declared(in: try OSMOFixtures.text("cookbook-6.3.1-single-node-train.yaml")),
                       [OSMOOutput(kind: .dataset, value: "my-trained-model", task: "train", path: "experiments/models")])
        XCTAssertEqual(OSMOOutputs.declared(in: try OSMOFixtures.text("cookbook-6.3.1-single-node-train.yaml"),
                                            values: ["output_dataset": "run-r12"]).map(\.value), ["run-r12"])
        XCTAssertEqual(OSMOOutputs.declared(in: try OSMOFixtures.text("cookbook-6.3.1-torchrun-multinode-train.yaml")),
                       [OSMOOutput(kind: .dataset, value: "my-trained-model", task: "master", path: "models")])
        XCTAssertEqual(OSMOOutputs.declared(in: try OSMOFixtures.text("evalfixture-workflow_spec_template.yaml")),
                       [OSMOOutput(kind: .url, value: "s3://my-bucket/gr00t-train-1-output/", task: "train")])
        let flow = "workflow:\n  name: w\n  tasks:\n  - name: a\n    outputs:\n    - dataset: {name: ds-{{ run_id }}, path: out}\n"
            + "    - url: \"s3://b/{{workflow_id}}\"  # comment\n    inputs:\n    - url: s3://in\n"
        XCTAssertEqual(OSMOOutputs.declared(in: flow, values: ["run_id": "r3"]),
                       [OSMOOutput(kind: .dataset, value: "ds-r3", task: "a", path: "out"), OSMOOutput(kind: .url, value: "s3://b/{{workflow_id}}", task: "a")])
    }

    func testCommands() throws {
        XCTAssertEqual(try OSMOCommands.submit(file: "/w/osmo/train.yaml", pool: "h100-east", set: ["memory": "96Gi", "gpus": "4"]),
                       ["osmo", "workflow", "submit", "/w/osmo/train.yaml", "--pool", "h100-east", "--set", "gpus=4", "memory=96Gi",
                        "--format-type", "json"])
        XCTAssertThrowsError(try OSMOCommands.submit(file: "f", pool: "p", set: ["-x": "1"]))
        XCTAssertEqual(OSMOCommands.list(count: 50, statuses: ["RUNNING", "PENDING"]),
                       ["osmo", "workflow", "list", "--count", "50", "--status", "RUNNING", "PENDING", "--format-type", "json"])
        XCTAssertEqual(OSMOCommands.query("w-1"), ["osmo", "workflow", "query", "w-1", "--verbose", "--format-type", "json"])
        XCTAssertEqual(OSMOCommands.logs("w-1", task: "train", retryID: 0, lastLines: 200), ["osmo", "workflow", "logs", "w-1", "--task", "train", "-n", "200"])
        XCTAssertEqual(OSMOCommands.logs("w-1", task: "train", retryID: 2), ["osmo", "workflow", "logs", "w-1", "--task", "train", "--retry-id", "2"])
        XCTAssertEqual(OSMOCommands.cancel("w-1", message: "expt"), ["osmo", "workflow", "cancel", "w-1", "--message", "expt", "--format-type", "json"])
        XCTAssertEqual(OSMOCommands.restart("w-1", pool: "p"), ["osmo", "workflow", "restart", "w-1", "--pool", "p", "--format-type", "json"])
        XCTAssertEqual(OSMOCommands.poolList(), ["osmo", "pool", "list", "--format-type", "json"])
        XCTAssertEqual(OSMOCommands.resourceList(pools: ["a", "b"]), ["osmo", "resource", "list", "--pool", "a", "b", "--format-type", "json"])
    }
}
