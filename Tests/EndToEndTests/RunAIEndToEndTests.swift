import XCTest
import ExptTestSupport

/// Run:ai through `expt`, against the strict fake `runai` on PATH (no Run:ai control plane runs
/// here, and no real CLI output is public: the fake serves the shapes docs/backends/runai.md
/// documents). Over quota is a wait, not a failure; an OOM is relaunched as a new workload with
/// more memory.
final class RunAIEndToEndTests: XCTestCase {
    static let toml = """
    command = "python3 train.py"
    backend = "runai"
    [runai]
    project = "team-a"
    image = "ghcr.io/lab/train:2.1"
    preemptible = false
    [resources]
    mem = "16G"
    gpus = 1
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
        t = try TempRepo(files: ["README.md": "# train\n", "train.py": "print('hi')\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try Self.toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "runai config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "gpu"], in: t.path).status, 0)
        addTeardownBlock { [kube] in
            XCTAssertEqual(kube?.unexpectedCalls().map(\.argv) ?? [], [], "every call was one the fake expects")
        }
    }

    func workload(_ name: String) throws -> String {
        try FakeKube.workload(name, inList: try FakeKube.runaiFixture("training-list.api-shape.json"))
    }

    func status() throws -> [String: Any] {
        let r = try expt.run(["status", "gpu", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap((try r.json() as? [[String: Any]])?.last)
    }

    func testOverQuotaIsAWaitNotAFailure() throws {
        var s = FakeKube.Scenario()
        s.runaiSubmissions = [FakeKube.Workload(states: [.init(workload: try workload("expt-r2-gpu"),
                                                                describe: try FakeKube.runaiFixture("training-describe-overquota.json"))])]
        try kube.setScenario(s)
        let launch = try expt.run(["launch", "gpu"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let submit = try XCTUnwrap(kube.argvs(.runai).first)
        XCTAssertEqual(Array(submit.prefix(5)), ["training", "submit", "expt-r1-gpu", "-p", "team-a"])
        XCTAssertTrue(submit.contains("--priority") && submit.contains("build"), "non-preemptible: \(submit)")
        let row = try status()
        XCTAssertEqual(row["state"] as? String, "pending", "\(row)")
        XCTAssertTrue((row["reason"] as? String ?? "").contains("over quota"), "\(row)")
        let fix = try expt.run(["fix-and-relaunch", "gpu", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 3, "waiting for quota did not fail: \(fix.stderr)")
        XCTAssertEqual(kube.argvs(.runai).filter { $0.prefix(2) == ["training", "submit"] }.count, 1)
    }

    func testAnOOMWorkloadIsRelaunchedWithMoreMemory() throws {
        var s = FakeKube.Scenario()
        s.runaiSubmissions = [FakeKube.Workload(states: [.init(workload: try workload("expt-r4-oom"))], logs: "step 10 loss 0.4\nKilled\n"),
                              FakeKube.Workload(states: [.init(workload: try workload("expt-r1-gwas-iron"))])]
        try kube.setScenario(s)
        XCTAssertEqual(try expt.run(["launch", "gpu"], in: t.path).status, 0)
        XCTAssertEqual(try status()["state"] as? String, "oom")
        let fix = try expt.run(["fix-and-relaunch", "gpu", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let second = try XCTUnwrap(kube.argvs(.runai).last { $0.prefix(2) == ["training", "submit"] })
        XCTAssertEqual(second[2], "expt-r2-gpu", "a new workload")
        let mem = try XCTUnwrap(second.firstIndex(of: "--cpu-memory-request"))
        XCTAssertEqual(second[mem + 1], "32G", "the highmem profile")
        XCTAssertEqual(try status()["state"] as? String, "running")
    }

    func testNotLoggedInIsAClearError() throws {
        var s = FakeKube.Scenario()
        s.runaiMode = .notLoggedIn
        try kube.setScenario(s)
        let r = try expt.run(["launch", "gpu"], in: t.path)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("hint:") && r.stderr.lowercased().contains("log"), r.stderr)
    }
}
