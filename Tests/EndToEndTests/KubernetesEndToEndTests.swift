import XCTest
import ExptTestSupport

/// Kubernetes Indexed Jobs through `expt`, against the strict fake `kubectl` on PATH (no cluster
/// runs here) serving the project's captured and generated Job/pod JSON: retry only the failed
/// indexes with more memory, preemption not counted as a failure, an image that cannot be pulled
/// refused as needing a change, kubectl behind an exec prefix, and bad input.
final class KubernetesEndToEndTests: XCTestCase {
    static let toml = """
    command = "python3 gwas.py --trait $EXPT_ITEM"
    backend = "kubernetes"
    [kubernetes]
    namespace = "gwas"
    image = "ghcr.io/lab/gwas:1.4"
    [resources]
    mem = "8G"
    [profiles.highmem]
    mem = "32G"
    """

    var expt: ExptBinary!
    var kube: FakeKube!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        kube = try FakeKube()
        expt.environment = kube.environment
        t = try TempRepo(files: ["README.md": "# sweep\n", "gwas.py": "print('hi')\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try Self.toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "kubernetes config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "sweep"], in: t.path).status, 0)
        addTeardownBlock { [kube] in
            XCTAssertEqual(kube?.unexpectedCalls().map(\.argv) ?? [], [], "every call was one the fake expects")
        }
    }

    func json(_ args: [String]) throws -> Any {
        let r = try expt.run(args + ["--json"], in: t.path)
        XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
        return try r.json()
    }

    func waitFor(_ states: Set<String>) throws -> [String: Any] {
        var last: [String: Any] = [:]
        return try XCTUnwrap(try expt.waitForRun("sweep", in: states, cwd: t.path, timeout: 30, last: &last), "\(last)")
    }

    func testTwentyIndexesTwoOOMOnlyThoseRerunWithMoreMemory() throws {
        var s = FakeKube.Scenario()
        s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-20-items-2-oom.json")]),
                         FakeKube.Job(states: [try FakeKube.fixture("job-relaunch-7-13-running.json"),
                                               try FakeKube.fixture("job-relaunch-7-13-succeeded.json")])]
        try kube.setScenario(s)
        let launch = try expt.run(["launch", "sweep", "--array", "0-19"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let create = try XCTUnwrap(kube.calls().first { $0.argv.first == "create" })
        XCTAssertEqual(create.argv, ["create", "-f", "-", "-n", "gwas", "-o", "name"])
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(create.stdin.utf8)) as? [String: Any])
        let spec = try XCTUnwrap(manifest["spec"] as? [String: Any])
        XCTAssertEqual(spec["completionMode"] as? String, "Indexed")
        XCTAssertEqual(spec["completions"] as? Int, 20)
        XCTAssertNotNil(spec["podFailurePolicy"], "disruptions ignored, fatal exit codes fail the index")

        let row = try waitFor(["failed", "oom", "succeeded"])
        let tasks = try XCTUnwrap(row["tasks"] as? [[String: Any]])
        XCTAssertEqual(tasks.count, 20)
        XCTAssertEqual(tasks.filter { $0["state"] as? String != "succeeded" }.compactMap { $0["index"] as? Int }, [7, 13])
        XCTAssertEqual(kube.argvs(.kubectl).filter { $0.first == "get" && $0.contains("jobs,pods") }.count,
                       kube.argvs(.kubectl).filter { $0.first == "get" && $0.contains("jobs,pods") }.count, "one list per poll")
        let d = try XCTUnwrap(try json(["diagnose", "sweep"]) as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "oom_host", "\(d["evidence"] ?? "")")

        let before = kube.calls().count
        let fix = try expt.run(["fix-and-relaunch", "sweep", "--yes", "--no-push", "--no-comment", "--json"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let plan = try XCTUnwrap((try fix.json() as? [String: Any])?["plan"] as? [String: Any])
        XCTAssertEqual(plan["tasks"] as? [Int], [7, 13])
        let second = try XCTUnwrap(kube.calls().last { $0.argv.first == "create" })
        // Issue 16: at most 3 scheduler calls before the relaunch (a poll, the logs, one lookup).
        let fixCalls = Array(kube.calls()[before...])
        let untilCreate = try XCTUnwrap(fixCalls.firstIndex { $0.argv.first == "create" })
        XCTAssertLessThanOrEqual(untilCreate, 3, "scheduler calls before the relaunch: \(fixCalls[..<untilCreate].map(\.argv))")
        let relaunch = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(second.stdin.utf8)) as? [String: Any])
        XCTAssertEqual((relaunch["spec"] as? [String: Any])?["completions"] as? Int, 2, "a fresh Job over just the two indexes")
        XCTAssertEqual(((relaunch["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["expt.items"], "7,13")
        XCTAssertTrue(second.stdin.contains("32Gi") || second.stdin.contains("32768Mi"), "more memory: \(second.stdin.prefix(400))")

        let done = try waitFor(["succeeded", "failed"])
        XCTAssertEqual(done["state"] as? String, "succeeded", "\(done)")
        XCTAssertEqual((done["tasks"] as? [[String: Any]])?.compactMap { $0["index"] as? Int }, [7, 13])
    }

    func testAPreemptedPodIsNotAFailure() throws {
        var s = FakeKube.Scenario()
        s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-preempted-running.json"),
                                               try FakeKube.fixture("job-preempted-succeeded.json")])]
        try kube.setScenario(s)
        XCTAssertEqual(try expt.run(["launch", "sweep", "--array", "0-2"], in: t.path).status, 0)
        let first = try XCTUnwrap((try json(["status", "sweep"]) as? [[String: Any]])?.last)
        XCTAssertNotEqual(first["state"] as? String, "failed", "a disruption is not a failure: \(first)")
        let done = try waitFor(["succeeded", "failed"])
        XCTAssertEqual(done["state"] as? String, "succeeded", "the index ran again and finished: \(done)")
    }

    func testImagePullBackOffNeedsAChangeAndIsNotRetried() throws {
        var s = FakeKube.Scenario()
        s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-imagepull.json")])]
        try kube.setScenario(s)
        XCTAssertEqual(try expt.run(["launch", "sweep", "--array", "0-1"], in: t.path).status, 0)
        let d = try XCTUnwrap(try json(["diagnose", "sweep"]) as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "image_pull", "\(d)")
        let fix = try expt.run(["fix-and-relaunch", "sweep", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertNotEqual(fix.status, 0, fix.stdout)
        XCTAssertEqual(kube.argvs(.kubectl).filter { $0.first == "create" }.count, 1, "no blind retry")
    }

    func testKubectlThroughAnExecPrefix() throws {
        let wt = t.path + "/.worktrees/sweep"
        var toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        toml = toml.replacingOccurrences(of: "image = \"ghcr.io/lab/gwas:1.4\"",
                                         with: "image = \"ghcr.io/lab/gwas:1.4\"\nexec_prefix = [\"bash\", \"-c\"]\nenv = { KUBECONFIG = \"/etc/kube/lab config\" }")
        try toml.write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "sweep", "-m", "prefix"], in: t.path).status, 0)
        var s = FakeKube.Scenario()
        s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-20-items-running.json")])]
        try kube.setScenario(s)
        let r = try expt.run(["launch", "sweep", "--array", "0-19"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(kube.calls().first { $0.argv.first == "create" }?.argv, ["create", "-f", "-", "-n", "gwas", "-o", "name"],
                       "one string for the shell, each argument back intact")
    }

    func testBadInputIsAClearError() throws {
        for (mode, words) in [(FakeKube.Mode.noKubeconfig, "KUBECONFIG"), (.noContext, "context"), (.unreachable, "cannot be reached"),
                              (.forbidden, "refused"), (.noNamespace, "not found")] {
            var s = FakeKube.Scenario(mode: mode)
            s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-20-items-running.json")])]
            try kube.setScenario(s)
            let r = try expt.run(["launch", "sweep", "--array", "0-19"], in: t.path)
            XCTAssertNotEqual(r.status, 0, "\(mode)")
            XCTAssertTrue(r.stderr.contains(words) && r.stderr.contains("hint:"), "\(mode): \(r.stderr)")
        }
        // A Job the cluster no longer knows is lost, never succeeded.
        try kube.setMode(.ok)
        var ok = FakeKube.Scenario()
        ok.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-20-items-running.json")])]
        try kube.setScenario(ok)
        let launched = try XCTUnwrap(try json(["launch", "sweep", "--array", "0-19"]) as? [String: Any])
        try kube.forgetJob(try XCTUnwrap(launched["job_id"] as? String))
        XCTAssertEqual((try json(["status", "sweep"]) as? [[String: Any]])?.last?["state"] as? String, "lost")
    }

    /// What the cluster needs of every Job comes from the repository's template; expt's own
    /// fields (indexes, labels, resources, command) win, and the main container keeps its mounts.
    func testTheRepositorysJobTemplateAddsVolumesAndMounts() throws {
        try t.write(".expt/templates/k8s-job.json", """
        {"spec": {"template": {"spec": {"nodeSelector": {"pool": "highmem"},
          "volumes": [{"name": "data", "nfs": {"server": "nfs1", "path": "/gwas"}}],
          "containers": [{"name": "main", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}}}}
        """)
        var s = FakeKube.Scenario()
        s.submissions = [FakeKube.Job(states: [try FakeKube.fixture("job-20-items-running.json")])]
        try kube.setScenario(s)
        let r = try expt.run(["launch", "sweep", "--array", "0-19"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(kube.calls().first { $0.argv.first == "create" }).stdin.utf8)) as? [String: Any])
        let spec = try XCTUnwrap(manifest["spec"] as? [String: Any])
        XCTAssertEqual(spec["completions"] as? Int, 20, "expt's fields stay")
        let pod = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        XCTAssertEqual((pod["nodeSelector"] as? [String: String])?["pool"], "highmem")
        XCTAssertEqual((pod["volumes"] as? [[String: Any]])?.first?["name"] as? String, "data")
        let main = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first { $0["name"] as? String == "main" })
        XCTAssertNotNil(main["image"], "expt's container fields")
        XCTAssertEqual((main["volumeMounts"] as? [[String: Any]])?.first?["mountPath"] as? String, "/data", "the template's mount")
    }
}
