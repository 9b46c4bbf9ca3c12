import XCTest
import ExptTestSupport

/// Argo through `expt`, against the strict fake `argo` and `kubectl` on PATH (no cluster runs
/// here) serving the project's captured and generated workflow JSON: the GWAS lifecycle of
/// docs/backends/argo.md (assess, stop, move partial outputs aside, retry only the failed items
/// with the highmem template plus the aggregation, monitor), the RBAC refusal, done markers,
/// the WSL prefix and bad input.
final class ArgoEndToEndTests: XCTestCase {
    static let toml = """
    backend = "argo"
    [argo]
    namespace = "runai-talmo-lab"
    workflow_template = "gapit3-gwas-parallel"
    item_input = "trait-index"
    item_template = "gapit3-gwas-single-trait/run-gwas"
    item_arguments = { "trait-index" = "{item}", "trait-name" = "trait-{item}" }
    aggregate_step = "collect-results"
    aggregate_template = "gapit3-results-collector/collect-results"
    stuck_after = "10m"
    [argo.profile_item_templates]
    highmem = "gapit3-gwas-single-trait-highmem"
    [resources]
    mem = "64G"
    [profiles.highmem]
    mem = "96G"
    """

    var expt: ExptBinary!
    var argo: FakeArgo!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        argo = try FakeArgo()
        expt.environment = argo.environment
        t = try TempRepo(files: ["README.md": "# gwas\n", ".gitignore": "outputs/\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try Self.toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "argo config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "gwas/iron"], in: t.path).status, 0)
        addTeardownBlock { [argo] in
            XCTAssertEqual(argo?.unexpectedCalls().map(\.argv) ?? [], [], "every call was one the fakes expect")
        }
    }

    func json(_ args: [String]) throws -> Any {
        let r = try expt.run(args + ["--json"], in: t.path)
        XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
        return try r.json()
    }

    /// The first run: the 186-trait workflow where traits 5, 28 and 29 ran out of memory after
    /// all their retries and trait 30's pod sits in PodInitializing.
    func gwasScenario(relaunch: [String] = []) throws {
        var scenario = FakeArgo.Scenario()
        let stuckPod = try FakeArgo.fixture("gwas-186-items.pod-stuck.json")
        let stuckName = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(stuckPod.utf8)) as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String)
        scenario.submissions = [FakeArgo.Workflow(states: [try FakeArgo.fixture("gwas-186-items.json")],
                                                  pods: [stuckName: stuckPod],
                                                  events: [stuckName: try FakeArgo.fixture("gwas-186-items.events-stuck.json")])]
        if !relaunch.isEmpty { scenario.submissions.append(FakeArgo.Workflow(states: try relaunch.map(FakeArgo.fixture))) }
        try argo.setScenario(scenario)
    }

    func testGWASStuckAndOOMItemsAreRetriedAloneWithHighmemAndAggregation() throws {
        try gwasScenario(relaunch: ["gwas-retry-4-items-running.json", "gwas-retry-4-items-succeeded.json"])
        let launch = try XCTUnwrap(try json(["launch", "gwas/iron"]) as? [String: Any])
        XCTAssertEqual(launch["job_id"] as? String, "gapit3-gwas-parallel-h5nzl")
        let submit = try XCTUnwrap(argo.argvs(.argo).first)
        XCTAssertEqual(Array(submit.prefix(6)), ["submit", "-n", "runai-talmo-lab", "--from", "workflowtemplate/gapit3-gwas-parallel", "--generate-name"])
        XCTAssertTrue(submit.contains("expt.branch=gwas-iron,expt.run=r1"), "one -l with every label: \(submit)")

        // Assess: one list call, items by trait index, OOM and stuck told apart.
        let rows = try XCTUnwrap(try json(["status", "gwas/iron"]) as? [[String: Any]])
        let run = try XCTUnwrap(rows.last)
        XCTAssertEqual(run["state"] as? String, "stalled", "alive, but its one live item is stuck: \(run["reason"] ?? "")")
        let tasks = try XCTUnwrap(run["tasks"] as? [[String: Any]])
        XCTAssertEqual(tasks.count, 186)
        let bad = tasks.filter { !["succeeded"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(bad.compactMap { $0["index"] as? Int }, [5, 28, 29, 30])
        XCTAssertEqual(bad.compactMap { $0["state"] as? String }, ["oom", "oom", "oom", "stalled"])
        XCTAssertTrue((bad[3]["message"] as? String ?? "").contains("PodInitializing"), "\(bad[3])")
        XCTAssertEqual(argo.argvs(.argo).filter { $0.first == "get" }.count, 0, "argo list carries the nodes: no get")

        let stuckLog = try expt.run(["logs", "gwas/iron", "--task", "30", "--stderr"], in: t.path)
        XCTAssertEqual(stuckLog.status, 0, stuckLog.stderr)
        XCTAssertTrue(stuckLog.stdout.contains("stuck: pod") && stuckLog.stdout.contains("event"), "the pod facts were saved: \(stuckLog.stdout)")

        let d = try XCTUnwrap(try json(["diagnose", "gwas/iron"]) as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "oom_host", "\(d["evidence"] ?? "")")
        XCTAssertNotNil(d["batch"] as? [String: Any])

        let dry = try expt.run(["fix-and-relaunch", "gwas/iron", "--dry-run"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("stop      stop r1") && dry.stdout.contains("rerun only failed task(s) 5,28,29,30"), dry.stdout)
        XCTAssertEqual(argo.argvs(.argo).filter { $0.first == "stop" || $0.first == "submit" }.count, 1, "a dry run stops and submits nothing")

        // Recover: stop, then ONE new workflow over exactly the four items, highmem, plus aggregation.
        let fix = try expt.run(["fix-and-relaunch", "gwas/iron", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let calls = argo.calls().filter { $0.tool == "argo" }
        let stop = try XCTUnwrap(calls.firstIndex { $0.argv.first == "stop" }, "\(calls.map(\.argv))")
        let resubmit = try XCTUnwrap(calls.lastIndex { $0.argv.first == "submit" })
        XCTAssertLessThan(stop, resubmit, "stopped before the relaunch")
        XCTAssertEqual(Array(calls[resubmit].argv.prefix(4)), ["submit", "-", "-n", "runai-talmo-lab"])
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(calls[resubmit].stdin.utf8)) as? [String: Any])
        let dag = try XCTUnwrap((((manifest["spec"] as? [String: Any])?["templates"] as? [[String: Any]])?.first?["dag"] as? [String: Any])?["tasks"] as? [[String: Any]])
        XCTAssertEqual(dag.compactMap { $0["name"] as? String }, ["item-5", "item-28", "item-29", "item-30", "collect-results"])
        XCTAssertEqual(Set(dag.prefix(4).compactMap { ($0["templateRef"] as? [String: String])?["name"] }), ["gapit3-gwas-single-trait-highmem"])
        XCTAssertEqual(dag.last?["dependencies"] as? [String], ["item-5", "item-28", "item-29", "item-30"])
        XCTAssertTrue(calls[resubmit].argv.contains("model=BLINK,FarmCPU,MLM"), "the original workflow's parameters are carried over")

        // Monitor: the new run ends well, with exactly those four items.
        var last: [String: Any] = [:]
        let done = try XCTUnwrap(try expt.waitForRun("gwas/iron", in: ["succeeded", "failed"], cwd: t.path, timeout: 30, last: &last), "\(last)")
        XCTAssertEqual(done["state"] as? String, "succeeded", "\(done)")
        XCTAssertEqual((done["tasks"] as? [[String: Any]])?.compactMap { $0["index"] as? Int }, [5, 28, 29, 30])
        let history = try XCTUnwrap(try json(["history", "gwas/iron"]) as? [[String: Any]])
        XCTAssertEqual(history.first?["outcome"] as? String, "succeeded")
    }

    func testRBACExit64IsAConfigErrorAndIsNeverRetried() throws {
        let message = try FakeArgo.fixture("node-message-rbac-exit64.gapit3-docs.txt").trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: " ")
        let failed = try FakeArgo.edit(try FakeArgo.fixture("gwas-retry-4-items-succeeded.json")) { wf in
            var status = wf["status"] as! [String: Any]
            var nodes = status["nodes"] as! [String: [String: Any]]
            for (id, var n) in nodes where (n["displayName"] as? String ?? "").hasPrefix("retry-trait-5") {
                n["phase"] = "Error"
                if n["type"] as? String == "Pod" { n["message"] = "wait: " + message }
                nodes[id] = n
            }
            status["nodes"] = nodes; status["phase"] = "Failed"; wf["status"] = status
        }
        var scenario = FakeArgo.Scenario()
        scenario.submissions = [FakeArgo.Workflow(states: [failed])]
        try argo.setScenario(scenario)
        _ = try json(["launch", "gwas/iron"])
        var last: [String: Any] = [:]
        _ = try expt.waitForRun("gwas/iron", in: ["failed", "oom"], cwd: t.path, timeout: 20, last: &last)
        let d = try XCTUnwrap(try json(["diagnose", "gwas/iron"]) as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "config_error", "\(d)")
        let fix = try expt.run(["fix-and-relaunch", "gwas/iron", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 3, fix.stderr)
        XCTAssertTrue(fix.stderr.contains("needs a code or config change"), fix.stderr)
        XCTAssertEqual(argo.argvs(.argo).filter { $0.first == "submit" }.count, 1, "no blind retry")
    }

    func testACompletedItemWithoutItsDoneMarkerIsRetried() throws {
        let wt = t.path + "/.worktrees/gwas/iron"
        var toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        toml += "\n[outputs]\nitem_dir = \"outputs/trait_{item}\"\ndone_marker = \"GAPIT.Association.Filter_GWAS_results.csv\"\n"
        try toml.write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "gwas/iron", "-m", "outputs"], in: t.path).status, 0)
        for item in [5, 28, 29, 30] {
            try t.write("partial.csv", "x\n", in: wt + "/outputs/trait_\(item)")
            if item != 28 { try t.write("GAPIT.Association.Filter_GWAS_results.csv", "ok\n", in: wt + "/outputs/trait_\(item)") }
        }
        var scenario = FakeArgo.Scenario()
        scenario.submissions = [FakeArgo.Workflow(states: [try FakeArgo.fixture("gwas-retry-4-items-succeeded.json")]),
                                FakeArgo.Workflow(states: try ["gwas-retry-4-items-running.json", "gwas-retry-4-items-running.json",
                                                               "gwas-retry-4-items-succeeded.json"].map { name in
                                    // another workflow than the first run's (the fake keeps the states' names)
                                    try FakeArgo.edit(try FakeArgo.fixture(name)) { wf in
                                        var meta = wf["metadata"] as! [String: Any]; meta["name"] = "gapit3-gwas-retry-second"; wf["metadata"] = meta
                                    }
                                })]
        try argo.setScenario(scenario)
        _ = try json(["launch", "gwas/iron"])
        var last: [String: Any] = [:]
        let row = try XCTUnwrap(try expt.waitForRun("gwas/iron", in: ["failed", "succeeded"], cwd: t.path, timeout: 20, last: &last))
        XCTAssertEqual(row["state"] as? String, "failed", "Succeeded in Argo, but trait 28 has no Filter file: \(row)")
        let fix = try expt.run(["fix-and-relaunch", "gwas/iron", "--yes", "--no-push", "--no-comment", "--json"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stderr)
        let plan = try XCTUnwrap((try fix.json() as? [String: Any])?["plan"] as? [String: Any])
        XCTAssertEqual(plan["tasks"] as? [Int], [28])
        let manifest = try XCTUnwrap(argo.calls().last { $0.argv.first == "submit" }?.stdin)
        XCTAssertTrue(manifest.contains("\"item-28\"") && !manifest.contains("\"item-5\""), manifest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: wt + "/outputs/trait_28"), "moved aside")
        let aside = try FileManager.default.contentsOfDirectory(atPath: wt + "/outputs/expt-aside")
        XCTAssertEqual(aside.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: wt + "/outputs/expt-aside/\(aside[0])/trait_28/partial.csv"), "kept")
        // The rerun writes the item's outputs this time: the run ends well.
        try t.write("GAPIT.Association.Filter_GWAS_results.csv", "ok\n", in: wt + "/outputs/trait_28")
        let rerun = try XCTUnwrap(try expt.waitForRun("gwas/iron", in: ["failed", "succeeded"], cwd: t.path, timeout: 20, last: &last))
        XCTAssertEqual(rerun["state"] as? String, "succeeded", "\(rerun)")
    }

    /// From Windows: every command is ONE string for `wsl -e bash -c`, KUBECONFIG exported inside
    /// it, every argument quoted; WSL's fstab warning is ignored.
    func testWSLPrefixQuotesOneStringAndExportsTheEnvironment() throws {
        let bin = t.root.appendingPathComponent("wsl-bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let log = t.root.appendingPathComponent("wsl-calls.log").path
        try """
        #!/bin/bash
        # a stand-in for wsl.exe: records its argv, warns like WSL does, runs the command
        printf '%s\\0' "$@" >> \(log); printf '\\n' >> \(log)
        echo "wsl: Failed to mount /mnt/c, see dmesg for more details. Processing /etc/fstab with mount -a failed." >&2
        [ "$1" = "-e" ] && [ "$2" = "bash" ] && [ "$3" = "-c" ] || exit 98
        exec bash -c "$4"
        """.write(toFile: bin + "/wsl", atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(bin + "/wsl", 0o755), 0)
        let wt = t.path + "/.worktrees/gwas/iron"
        var toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        toml = toml.replacingOccurrences(of: "stuck_after = \"10m\"", with: """
            stuck_after = "10m"
            exec_prefix = ["wsl", "-e", "bash", "-c"]
            env = { KUBECONFIG = "/home/lab/.kube/config with space" }
            """)
        try toml.write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "gwas/iron", "-m", "wsl"], in: t.path).status, 0)
        var scenario = FakeArgo.Scenario()
        scenario.submissions = [FakeArgo.Workflow(states: [try FakeArgo.fixture("gwas-retry-4-items-running.json")])]
        try argo.setScenario(scenario)
        let r = try expt.run(["launch", "gwas/iron", "--json"], in: t.path, env: ["PATH": bin + ":" + (expt.environment["PATH"] ?? "")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let recorded = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\0").map(String.init) }
        let first = try XCTUnwrap(recorded.first)
        XCTAssertEqual(first.count, 4, "wsl -e bash -c <one string>: \(first)")
        XCTAssertTrue(first[3].hasPrefix("export KUBECONFIG='/home/lab/.kube/config with space' && export NO_COLOR=1 && export TERM=dumb && argo submit"), first[3])
        XCTAssertTrue(first[3].contains("workflowtemplate/gapit3-gwas-parallel"), first[3])
        let status = try expt.run(["status", "gwas/iron", "--json"], in: t.path, env: ["PATH": bin + ":" + (expt.environment["PATH"] ?? "")])
        XCTAssertEqual(status.status, 0, "the fstab warning is not an error: \(status.stderr)")
    }

    func testBadInputIsAClearErrorAndRecordsNothing() throws {
        let cases: [(FakeArgo.Mode, Int32, String)] = [(.noKubeconfig, 5, "KUBECONFIG"), (.unreachable, 5, "cannot be reached"),
                                                      (.forbidden, 5, "refused"), (.noTemplate, 4, "template"),
                                                      (.noNamespace, 4, "namespace")]
        for (mode, status, words) in cases {
            var scenario = FakeArgo.Scenario(mode: mode)
            scenario.submissions = [FakeArgo.Workflow(states: [try FakeArgo.fixture("gwas-retry-4-items-running.json")])]
            try argo.setScenario(scenario)
            let r = try expt.run(["launch", "gwas/iron"], in: t.path)
            XCTAssertEqual(r.status, status, "\(mode): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(mode): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("hint:"), "\(mode): says what to do: \(r.stderr)")
            let runs = try XCTUnwrap(try json(["runs", "gwas/iron"]) as? [[String: Any]])
            XCTAssertTrue(runs.allSatisfy { $0["job_id"] is NSNull }, "\(mode): no job recorded: \(runs)")
        }
        // a workflow the cluster no longer knows is lost, never succeeded
        try argo.setMode(.ok)
        var ok = FakeArgo.Scenario()
        ok.submissions = [FakeArgo.Workflow(states: [try FakeArgo.fixture("gwas-retry-4-items-running.json")])]
        try argo.setScenario(ok)
        let launched = try XCTUnwrap(try json(["launch", "gwas/iron"]) as? [String: Any])
        try argo.deleteWorkflow(try XCTUnwrap(launched["job_id"] as? String))
        let rows = try XCTUnwrap(try json(["status", "gwas/iron"]) as? [[String: Any]])
        XCTAssertEqual(rows.last?["state"] as? String, "lost", "\(rows)")
        // argo itself missing
        let noArgo = try expt.run(["launch", "gwas/iron"], in: t.path, env: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(noArgo.status, 5)
        XCTAssertTrue(noArgo.stderr.contains("argo is not installed"), noArgo.stderr)
    }
}
