import XCTest
import ExptCore
import ExptModel
@testable import ExptBackends

/// The adapter against a real Slurm (`scripts/slurm-local.sh start`). Skipped when `sinfo` does
/// not answer, unless EXPT_REQUIRE_SLURM=1 (then that is a failure).
final class SlurmIntegrationTests: XCTestCase {
    var dir: String!
    let backend = SlurmBackend(runner: SystemProcessRunner(), config: SlurmConfig())

    /// Probed once per test process: with a config but no slurmctld, `sinfo` takes ~10 s to give up.
    static let slurmReachable: Bool = {
        (try? SystemProcessRunner().run(["sinfo", "--noheader", "--format=%T"]))?.status == 0
    }()

    override func setUpWithError() throws {
        if !Self.slurmReachable {
            let why = "no Slurm reachable: start it with scripts/slurm-local.sh start"
            if ProcessInfo.processInfo.environment["EXPT_REQUIRE_SLURM"] == "1" {
                XCTFail("\(why) (EXPT_REQUIRE_SLURM=1)")
                throw ExptError(.external, why)
            }
            throw XCTSkip(why)
        }
        dir = NSTemporaryDirectory() + "slurm-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let dir, testRun?.hasSucceeded == true { try? FileManager.default.removeItem(atPath: dir) }
    }

    func spec(_ name: String, _ command: String, resources: Resources = Resources(),
              array: ArraySpec? = nil) -> JobSpec {
        let run = "it\(UUID().uuidString.prefix(6))"
        return JobSpec(runID: run, branch: "it/\(name)", jobName: JobSpec.jobName(runID: run, branch: "it/\(name)"),
                       workdir: dir, command: command, environment: ["EXPT_IT": "a b$c"], resources: resources,
                       logDir: "\(dir!)/runs/\(name)", array: array)
    }

    /// Polls every second until the job is terminal (or `timeout` seconds pass).
    func waitTerminal(_ ref: JobRef, timeout: Double = 60) throws -> JobStatus {
        let deadline = Date().addingTimeInterval(timeout)
        var last: JobStatus?
        while Date() < deadline {
            last = try backend.poll([ref])[ref]
            if let s = last, s.state.isTerminal { return s }
            Thread.sleep(forTimeInterval: 1)
        }
        XCTFail("job \(ref.jobID) not finished after \(timeout) s; last: \(String(describing: last))")
        throw ExptError(.failure, "timeout")
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func testSuccessEnvironmentAndLookup() throws {
        let s = spec("ok", #"echo "hello $EXPT_RUN_ID $EXPT_BRANCH [$EXPT_IT] $(pwd)""#)
        let ref = try backend.submit(s)
        XCTAssertEqual(try backend.lookup(jobName: s.jobName, spec: s), ref)
        let status = try waitTerminal(ref)
        XCTAssertEqual(status.state, .succeeded, "\(status)")
        XCTAssertEqual(status.exitCode, 0)
        XCTAssertEqual(read(SlurmScript.stdoutPath(s)), "hello \(s.runID) it/ok [a b$c] \(dir!)\n")
    }

    /// Remote mode with `bash -c` standing in for ssh: script on stdin, mkdir through the
    /// prefix, every command quoted once.
    func testThroughExecPrefix() throws {
        let remote = SlurmBackend(runner: SystemProcessRunner(), config: SlurmConfig(execPrefix: ["bash", "-c"]))
        var s = spec("prefixed", #"printf '%s\n' "$EXPT_IT" "it's; $(echo ok)""#)
        s.logDir += "/not yet created"
        let ref = try remote.submit(s)
        let deadline = Date().addingTimeInterval(60)
        var status: JobStatus?
        while Date() < deadline {
            status = try remote.poll([ref])[ref]
            if status?.state.isTerminal == true { break }
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertEqual(status?.state, .succeeded, "\(String(describing: status))")
        XCTAssertEqual(read(SlurmScript.stdoutPath(s)), "a b$c\nit's; ok\n")
        XCTAssertEqual(remote.logs(ref, spec: s).map(\.remote), [true, true])
        XCTAssertEqual(try remote.lookup(jobName: s.jobName, spec: s), ref)
        // Reading the output back through the prefix, in every range (the path has blanks).
        let out = remote.logs(ref, spec: s)[0]
        XCTAssertEqual(try remote.read(out, .diagnosis).text, "a b$c\nit's; ok\n")
        XCTAssertEqual(try remote.read(out, .tail(bytes: 9)).text, "it's; ok\n")
        let rest = try remote.read(out, .from(offset: 6, max: 100))
        XCTAssertEqual(rest.text, "it's; ok\n")
        XCTAssertEqual(rest.end, 15)
        XCTAssertEqual(try remote.read(out, .from(offset: 15, max: 100)).head, [])
        XCTAssertThrowsError(try remote.read(LogSource(kind: .stdout, path: s.logDir + "/nope.log", remote: true), .diagnosis)) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .notFound, "\($0)")
        }
    }

    func testMemoryLimitIsOOM() throws {
        let s = spec("oom", "python3 -c 'x = [bytearray(20 << 20) for _ in range(100)]'",
                     resources: Resources(memoryMB: 100))
        let status = try waitTerminal(try backend.submit(s))
        XCTAssertEqual(status.state, .oom, "\(status)")
        // (ReqMem may still be missing: sacct shows `16?` until slurmdbd has the start record)
        XCTAssertTrue(read(SlurmScript.stderrPath(s)).contains("oom-kill event"), read(SlurmScript.stderrPath(s)))
    }

    func testTracebackIsFailed() throws {
        let s = spec("fail", "echo step 1; python3 -c 'open(\"/nonexistent/ckpt.pt\")'")
        let status = try waitTerminal(try backend.submit(s))
        XCTAssertEqual(status.state, .failed, "\(status)")
        XCTAssertEqual(status.exitCode, 1)
        XCTAssertTrue(read(SlurmScript.stderrPath(s)).contains("FileNotFoundError"))
    }

    func testArrayWithOneFailingTask() throws {
        let s = spec("sweep", #"echo "task $SLURM_ARRAY_TASK_ID"; [ "$SLURM_ARRAY_TASK_ID" != 2 ] || python3 -c 'raise ValueError("lr diverged")'"#,
                     array: ArraySpec(indices: [0, 1, 2, 3], maxConcurrent: 2))
        let status = try waitTerminal(try backend.submit(s), timeout: 90)
        XCTAssertEqual(status.state, .failed, "\(status)")
        XCTAssertEqual(status.tasks.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(status.tasks.map(\.state), [.succeeded, .succeeded, .failed, .succeeded])
        XCTAssertEqual(read(SlurmScript.stdoutPath(s, task: 3)), "task 3\n")
        XCTAssertTrue(read(SlurmScript.stderrPath(s, task: 2)).contains("ValueError: lr diverged"))
    }

    func testCancelRunningAndUnknown() throws {
        let ref = try backend.submit(spec("cancel", "sleep 300"))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try backend.poll([ref])[ref]?.state != .running { Thread.sleep(forTimeInterval: 0.5) }
        try backend.cancel(ref)
        let status = try waitTerminal(ref)
        XCTAssertEqual(status.state, .cancelled, "\(status)")
        XCTAssertThrowsError(try backend.cancel(JobRef(backend: "slurm", jobID: "987654"))) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .notFound)
        }
    }
}
