import XCTest
import ExptModel
@testable import ExptBackends

/// Run:ai: the SYNTHETIC CLI outputs of Fixtures/runai (make-runai.py: no real sample is public),
/// the real KAI-Scheduler event texts of a blog's lab run, and the scheduler's message formats.
final class RunAIOutputTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/runai")
    func text(_ name: String) throws -> String { try String(contentsOf: Self.dir.appendingPathComponent(name), encoding: .utf8) }

    func testListsInTheAPIShapeAndAsABareArray() throws {
        let listed = try RunAIOutput.list(text("training-list.api-shape.json"), command: "runai training list -p team-a --json")
        XCTAssertEqual(try RunAIOutput.list(text("training-list.bare-array.json"), command: "runai training list"), listed)
        XCTAssertEqual(listed.map(\.name), ["expt-r1-gwas-iron", "expt-r2-gpu", "expt-r3-done", "expt-r4-oom", "expt-r5-train"])
        XCTAssertEqual(listed.map(\.status), ["Running", "Pending", "Completed", "Failed", "Pending"])
        XCTAssertEqual(listed.map { RunAIStatus.jobState(status: $0.status, messages: $0.messages) }, [.running, .pending, .succeeded, .oom, .pending])
        XCTAssertEqual(listed[0].project, "team-a")
        XCTAssertEqual(listed[0].runningPods, 1)
        XCTAssertEqual(listed[0].k8sPhase, "Running")
        XCTAssertEqual(listed[0].createdAt, Date(timeIntervalSince1970: 1_767_611_460))

        // over quota: waiting, with the advice to go preemptible
        let gpu = listed[1]
        let (message, quotaText) = try XCTUnwrap(RunAIMessages.first(in: gpu.messages))
        XCTAssertEqual(message, .overQuota(resource: "GPUs", requested: 1, quota: 2))
        XCTAssertTrue(message.isWaitingForQuota)
        XCTAssertEqual(RunAIMessages.pendingVerdict(reason: quotaText), .waiting)
        XCTAssertTrue(message.advice.contains("set preemptible = true in [runai]"), message.advice)
        XCTAssertEqual(gpu.conditionMessages.first, "NonPreemptibleOverQuota: " + quotaText)

        // preempted, back in Pending: Run:ai runs it again (not an end, not a failure)
        let preempted = try XCTUnwrap(RunAIMessages.first(in: listed[4].messages)?.message)
        XCTAssertEqual(preempted, .preempted(by: "runai-team-a/pg-nightly-eval-7f3c2a91"))
        XCTAssertTrue(preempted.isPreemption)
        XCTAssertEqual(RunAIStatus.jobState(status: "Failed", messages: listed[4].messages), .preempted, "ended after a preemption")
    }

    func testDescribeFindsTheWorkloadItsPodsEventsAndMessages() throws {
        let d = try RunAIOutput.describe(text("training-describe-overquota.json"), command: "runai training describe expt-r2-gpu -p team-a -o json")
        XCTAssertEqual(d.workload.name, "expt-r2-gpu")
        XCTAssertEqual(d.workload.status, "Pending")
        XCTAssertEqual(d.pods, [RunAIDescription.Pod(name: "expt-r2-gpu-0-0", status: "Pending")])
        XCTAssertEqual(d.events.map(\.reason), ["Unschedulable"])
        XCTAssertEqual(RunAIMessages.first(in: d.messages)?.message, .overQuota(resource: "GPUs", requested: 1, quota: 2))
        let p = try RunAIOutput.describe(text("training-describe-preempted.json"), command: "runai training describe")
        XCTAssertEqual(RunAIMessages.first(in: p.messages)?.message, .preempted(by: "runai-team-a/pg-nightly-eval-7f3c2a91"))
        let r = try RunAIOutput.describe(text("training-describe-running.json"), command: "runai training describe")
        XCTAssertNil(RunAIMessages.first(in: r.messages))
        XCTAssertEqual(RunAIStatus.jobState(status: r.workload.status, messages: r.messages), .running)
        // fields at the top level work as well as in a `general` section
        let flat = try RunAIOutput.describe(#"{"name": "w", "phase": "Completed", "events": [{"message": "done"}]}"#, command: "c")
        XCTAssertEqual(flat.workload.status, "Completed")
        XCTAssertEqual(flat.messages, ["done"])
    }

    func testAMissingFieldIsNamedWithTheCommand() {
        func message(_ json: String) -> String {
            do { _ = try RunAIOutput.list(json, command: "runai training list -p team-a --json"); return "parsed" } catch { return "\(error)" }
        }
        let noName = message(#"[{"Name": "x", "Status": "Running"}]"#)
        XCTAssertTrue(noName.contains("`runai training list -p team-a --json`"), noName)
        XCTAssertTrue(noName.contains("workload [0] has no name (looked for 'name'; it has 'Name', 'Status')"), noName)
        XCTAssertTrue(noName.contains("RunAIFields"), "the hint says where the expectations are: \(noName)")
        XCTAssertTrue(message(#"[{"name": "x"}]"#).contains("has no status (looked for 'phase', 'status'"))
        XCTAssertTrue(message(#"{"foo": []}"#).contains("expected a list of workloads"))
        XCTAssertTrue(message(#"{"foo": []}"#).contains("got keys 'foo'"))
        XCTAssertTrue(message(#"{"workloads": 3}"#).contains("field 'workloads' is not an array"))
        XCTAssertTrue(message("Error: not logged in").contains("expected JSON"))
        XCTAssertTrue(message("[{").contains("malformed"))
        XCTAssertEqual(message(#"{"workloads": null}"#), "parsed")
        XCTAssertEqual(message("[]"), "parsed")
        // `status` is read when there is no `phase` (the CLI's own column name)
        XCTAssertEqual(try RunAIOutput.list(#"[{"name": "x", "status": "Running"}]"#, command: "c").first?.status, "Running")
    }

    // MARK: the scheduler's messages

    func testKAISchedulerFormats() {
        // pkg/scheduler/api/unschedule_info.go, filled in
        let limit = "team-a quota has reached the allowable limit of GPUs. Limit is 4 GPUs, currently 4 GPUs allocated and workload requested 1 GPUs"
        XCTAssertEqual(RunAIMessages.classify(limit), .overLimit(resource: "GPUs", requested: 1, limit: 4))
        XCTAssertEqual(RunAIMessages.pendingVerdict(reason: limit), .waiting)
        let tooBig = limit.replacingOccurrences(of: "requested 1 GPUs", with: "requested 8 GPUs")
        XCTAssertEqual(RunAIMessages.pendingVerdict(reason: tooBig), .blocked("the workload asks for more than the project's limit; ask for less"))
        let cpu = "Non-preemptible workload is over quota. Workload requested 8 CPU cores, but team-a quota is 4 cores, while 0 cores are already allocated for non-preemptible pods. Use a preemptible workload to go over quota."
        XCTAssertEqual(RunAIMessages.classify(cpu), .overQuota(resource: "CPU cores", requested: 8, quota: 4))
        if case .blocked = RunAIMessages.pendingVerdict(reason: cpu) {} else { XCTFail("more than the whole quota can never start non-preemptible") }
        let memory = "Non-preemptible workload is over quota. Workload requested 64 GB memory, but team-a quota is 256 GB, while 240 GB are already allocated for non-preemptible pods. Use a preemptible workload to go over quota."
        XCTAssertEqual(RunAIMessages.classify(memory), .overQuota(resource: "GB memory", requested: 64, quota: 256))
        XCTAssertEqual(RunAIMessages.classify("Pod runai-a/p-0-0 was preempted by workload runai-b/pg-x."), .reclaimed(by: "runai-b/pg-x"))
        XCTAssertEqual(RunAIMessages.classify("Pod runai-a/p-0-0 was preempted and rescheduled due to bin packing (resource consolidation) procedure"), .consolidated)
        XCTAssertEqual(RunAIMessages.classify("Workload doesn't have the minimum required number of pods (4), evicting remaining pod: runai-a/p-1"),
                       .gangEvicted(minimum: 4))
        XCTAssertEqual(RunAIMessages.classify("Workload doesn't meet the minimum required number of pods (2), evicting remaining pod: a/b"),
                       .gangEvicted(minimum: 2))
        XCTAssertTrue(RunAISchedulerMessage.consolidated.isPreemption)
        XCTAssertFalse(RunAISchedulerMessage.consolidated.isWaitingForQuota)
        if case .blocked = RunAIMessages.pendingVerdict(reason: "No node in the default node-pool has GPU resources.") {} else { XCTFail("no GPU node") }
        XCTAssertEqual(RunAIMessages.pendingVerdict(reason: nil), .waiting)
        XCTAssertNil(RunAIMessages.classify("0/4 nodes are available: 4 Insufficient nvidia.com/gpu."))
    }

    func testRealKAIEventsOfALabRun() throws {
        // three events as a blog printed them (line breaks are the author's): reclaim, over quota, preemption
        let blocks = try text("kai-events.kai-lab-blog.txt").components(separatedBy: "\n\n").map { block in
            block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
        XCTAssertEqual(blocks.map(RunAIMessages.classify), [
            .reclaimed(by: "kai-lab/pg-infer-claim-2-8b80dcd8-…"),
            .overQuota(resource: "GPUs", requested: 1, quota: 1),
            .preempted(by: "kai-lab/pg-preempt-preemptor-inference-93f1e435-…"),
        ])
        XCTAssertEqual(RunAIMessages.pendingVerdict(reason: blocks[1]), .waiting, "1 GPU asked, 1 of quota: it waits")
    }

    func testStatuses() {
        for (status, state) in [("Creating", JobState.pending), ("Initializing", .pending), ("Resuming", .pending), ("Degraded", .running),
                                ("Completed", .succeeded), ("Failed", .failed), ("Stopped", .cancelled), ("Deleting", .cancelled),
                                ("TimedOut", .timeout), ("OOMKilled", .oom), ("ImagePullBackOff", .failed), ("Succeeded", .succeeded),
                                ("Something new", .running), (" running ", .running)] {
            XCTAssertEqual(RunAIStatus.jobState(status: status), state, status)
        }
        XCTAssertEqual(RunAIStatus.jobState(status: "Failed", messages: ["main: OOMKilled (exit code 137)"]), .oom)
    }

    // MARK: the CLI calls

    func testCommands() throws {
        var spec = JobSpec(runID: "r12", branch: "gwas/iron", jobName: "expt.r12.gwas-iron", workdir: "/w", command: "python run.py --trait 5",
                           environment: ["A": "1"], resources: Resources(memoryMB: 98_304, cpus: 8, gpus: 1), logDir: "/l")
        spec.profile = "highmem"
        let name = RunAICommands.workloadName(runID: spec.runID, branch: spec.branch)
        XCTAssertEqual(name, "expt-r12-gwas-iron")
        let submit = try RunAICommands.submit(name: name, spec: spec,
                                              .init(project: "team-a", image: "ghcr.io/x/y:1", priorityClass: RunAICommands.priorityClass(preemptible: true)))
        XCTAssertEqual(submit, ["runai", "training", "submit", "expt-r12-gwas-iron", "-p", "team-a", "-i", "ghcr.io/x/y:1",
                                "--cpu-core-request", "8", "--cpu-memory-request", "96G", "--gpu-devices-request", "1", "--priority", "train",
                                "-e", "A=1", "-e", "EXPT_BRANCH=gwas/iron", "-e", "EXPT_RUN_ID=r12",
                                "--label", "expt.branch=gwas-iron", "--label", "expt.run=r12",
                                "--command", "--", "bash", "-c", "python run.py --trait 5"])
        XCTAssertEqual(RunAICommands.priorityClass(preemptible: false), "build")
        XCTAssertEqual(RunAICommands.list(project: "team-a"), ["runai", "training", "list", "-p", "team-a", "--json"])
        XCTAssertEqual(RunAICommands.describe(name: name, project: "team-a"), ["runai", "training", "describe", name, "-p", "team-a", "-o", "json"])
        XCTAssertEqual(RunAICommands.delete(name: name, project: "team-a"), ["runai", "training", "delete", name, "-p", "team-a"])
        XCTAssertEqual(RunAICommands.logs(name: name, project: "team-a", tail: 200, previous: true),
                       ["runai", "training", "logs", name, "-p", "team-a", "--tail", "200", "--previous"])
        XCTAssertThrowsError(try RunAICommands.submit(name: name, spec: spec, .init(project: "", image: "i")))
        XCTAssertThrowsError(try RunAICommands.submit(name: name, spec: spec, .init(project: "p", image: " ")))
    }

    func testCLIErrors() {
        func failure(_ stderr: String, status: Int32 = 1) -> ExptError? {
            let argv = RunAICommands.list(project: "team-a")
            do { _ = try RunAICLI.check(ProcessResult(argv: argv, status: status, stdout: "", stderr: stderr), argv, project: "team-a"); return nil }
            catch { return error as? ExptError }
        }
        XCTAssertNil(failure("", status: 0))
        XCTAssertTrue(failure("", status: 127)!.message.contains("runai is not installed"))
        let login = failure("Error: you are not logged in, please run 'runai login'")!
        XCTAssertTrue(login.message.contains("not logged in") && login.hint!.contains("runai login"), login.description)
        XCTAssertTrue(failure("Error: 401 Unauthorized: token is expired")!.message.contains("not logged in"))
        let project = failure(#"Error: project "team-x" not found"#)!
        XCTAssertEqual(project.kind, .notFound)
        XCTAssertTrue(project.hint!.contains("runai project list"), project.description)
        let workload = failure(#"Error: workload "expt-r9" not found in project "team-a""#)!
        XCTAssertEqual(workload.kind, .notFound)
        XCTAssertTrue(workload.message.contains("no such workload"), workload.description)
        XCTAssertEqual(failure("Error: something else")?.kind, .external)
    }
}
