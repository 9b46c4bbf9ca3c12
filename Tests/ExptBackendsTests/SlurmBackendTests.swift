import XCTest
import ExptCore
import ExptModel
import ExptTestSupport
@testable import ExptBackends

/// The adapter against a strict fake runner: exact argv, one sacct call for many jobs.
final class SlurmBackendTests: XCTestCase {
    var dir: String!
    let fields = "--format=JobID,State,ExitCode,DerivedExitCode,Elapsed,Timelimit,MaxRSS,ReqMem,Start,End,Reason,JobName"
    let squeueFormat = "--format=%i|%T|%r|%M|%l|%m|%S|%j"

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "slurm-backend-\(UUID().uuidString)"
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func spec() -> JobSpec {
        var s = SlurmScriptTests.spec()
        s.logDir = dir + "/runs/r7"
        return s
    }

    func testSubmitWritesScriptAndParsesID() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig(extraArgs: ["--exclusive"]))
        let script = dir + "/runs/r7/job.sbatch"
        fake.expect(["sbatch", "--parsable", "--exclusive", script], stdout: "4242;cluster-a\n")
        let ref = try backend.submit(spec())
        XCTAssertEqual(ref, JobRef(backend: "slurm", jobID: "4242"))
        XCTAssertTrue(try String(contentsOfFile: script, encoding: .utf8).contains("--job-name=expt.r7.exp-lr"))
        fake.assertAllUsed()
    }

    func testSubmitRemoteSendsScriptOnStdin() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig(execPrefix: ["ssh", "login1"]))
        fake.expect(["ssh", "login1", "mkdir -p \(dir!)/runs/r7"])
        fake.expect(["ssh", "login1", "sbatch --parsable"], stdout: "77\n")
        XCTAssertEqual(try backend.submit(spec()).jobID, "77")
        XCTAssertTrue(fake.calls[1].stdinText?.hasPrefix("#!/bin/bash") == true)
        XCTAssertEqual(backend.logs(JobRef(backend: "slurm", jobID: "77"), spec: spec()).map(\.remote), [true, true])
        fake.assertAllUsed()
    }

    func testSubmitErrors() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig(partition: "nope"))
        let script = dir + "/runs/r7/job.sbatch"
        fake.expect(["sbatch", "--parsable", script], stderr: "sbatch: error: invalid partition specified: nope\n"
                    + "sbatch: error: Batch job submission failed: Invalid partition name specified\n", status: 1)
        XCTAssertThrowsError(try backend.submit(spec())) { error in
            let e = error as? ExptError
            XCTAssertEqual(e?.kind, .external)
            XCTAssertTrue(e?.message.contains("invalid partition specified: nope") == true, "\(String(describing: e))")
        }
        fake.expect(["sbatch", "--parsable", script], throwing: ExptError(.external, "sbatch is not installed or not on PATH"))
        XCTAssertThrowsError(try backend.submit(spec())) {
            XCTAssertEqual(($0 as? ExptError)?.message, "sbatch is not installed or not on PATH")
        }
        fake.expect(["sbatch", "--parsable", script], stdout: "Submitted batch job 5\n")
        XCTAssertThrowsError(try backend.submit(spec()))
        fake.assertAllUsed()
    }

    func testRemoteMissingToolAndUnreachableHost() {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig(execPrefix: ["ssh", "login1"]))
        fake.expect(["ssh", "login1", "scancel 5"], stderr: "bash: line 1: squeue: command not found", status: 127)
        XCTAssertThrowsError(try backend.call(["scancel", "5"])) {
            XCTAssertTrue(($0 as? ExptError)?.message.hasPrefix("scancel is not installed or not on PATH on the host") == true)
        }
        fake.expect(["ssh", "login1", "sacct --parsable2 --noheader --duplicates --jobs=5 \(fields)"],
                    stderr: "ssh: connect to host login1 port 22: No route to host", status: 255)
        XCTAssertThrowsError(try backend.poll([JobRef(backend: "slurm", jobID: "5")])) {
            XCTAssertTrue(($0 as? ExptError)?.message.contains("No route to host") == true)
        }
        fake.assertAllUsed()
    }

    /// Many jobs: ONE sacct call, then ONE squeue call for the ids sacct does not show yet;
    /// an id neither knows is left out.
    func testPollOneCallForManyJobs() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig())
        let refs = ["2", "6", "30", "31", "2"].map { JobRef(backend: "slurm", jobID: $0) }
        let sacct = try SlurmFixtures.text("sacct-states.txt") + (try SlurmFixtures.text("sacct-array.txt"))
        fake.expect(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=2,6,30,31", fields], stdout: sacct)
        // squeue is asked about the ids sacct lacks and about arrays (tasks reach sacct late)
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=6,30,31", squeueFormat],
                    stdout: "30|PENDING|Priority|0:00|1:00:00|1G|N/A|expt.r9.x\n")
        let result = try backend.poll(refs)
        XCTAssertEqual(Set(result.keys.map(\.jobID)), ["2", "6", "30"])
        XCTAssertEqual(result[refs[0]]?.state, .oom)
        XCTAssertEqual(result[refs[1]]?.tasks.count, 4)
        XCTAssertEqual(result[refs[2]]?.state, .pending)
        XCTAssertEqual(result[refs[2]]?.reason, "Priority")
        XCTAssertEqual(result[refs[2]]?.ref, refs[2])
        XCTAssertEqual(fake.calls.count, 2)
        fake.assertAllUsed()
    }

    /// Real case: right after a fast 4-task array, sacct had recorded only task 3. The tasks it
    /// does not know yet come from squeue; those squeue says ended are held back as running
    /// until sacct has their exit codes (a run recorded as ended is never polled again).
    func testArrayTasksMissingFromSacctComeFromSqueue() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig())
        let ref = JobRef(backend: "slurm", jobID: "2")
        fake.expect(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=2", fields], stdout: """
            2_3|COMPLETED|0:0|0:0|00:00:00|UNLIMITED||512M|2026-11-24T01:48:44|2026-11-24T01:48:44|JobArrayTaskLimit|s
            2_3.batch|COMPLETED|0:0||00:00:00||3164K||2026-11-24T01:48:44|2026-11-24T01:48:44||batch

            """)
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=2", squeueFormat], stdout: """
            2_3|COMPLETED|None|0:00|UNLIMITED|512M|2026-11-24T01:48:44|s
            2_0|COMPLETED|None|0:01|UNLIMITED|512M|2026-11-24T01:48:43|s
            2_1|RUNNING|None|0:01|UNLIMITED|512M|2026-11-24T01:48:43|s
            2_2|FAILED|NonZeroExitCode|0:00|UNLIMITED|512M|2026-11-24T01:48:44|s

            """)
        let status = try XCTUnwrap(try backend.poll([ref])[ref])
        XCTAssertEqual(status.state, .running)
        XCTAssertEqual(status.tasks.map(\.state), [.running, .running, .running, .succeeded])
        XCTAssertEqual(status.tasks.map(\.rawState), ["COMPLETING", "RUNNING", "COMPLETING", "COMPLETED"])
        XCTAssertNil(status.tasks[3].message)      // sacct's stale JobArrayTaskLimit is not a message
        XCTAssertEqual(status.maxRSSMB, 4)          // task 3's step came from sacct
        fake.assertAllUsed()
    }

    /// Real case: just after a fast array ended, sacct showed its id as a plain job.
    func testSqueueArrayStructureBeatsEarlyPlainSacctRow() throws {
        let rows = try SlurmAccounting.sacctRows(
            "20|COMPLETED|0:0|0:0|00:00:00|UNLIMITED|2000K|16?|Unknown|Unknown|None|allocation\n")
        let q = try SlurmAccounting.squeueRows("""
            20_3|COMPLETED|None|0:00|UNLIMITED|512M|2026-11-24T01:51:33|s
            20_2|FAILED|NonZeroExitCode|0:00|UNLIMITED|512M|2026-11-24T01:51:33|s
            21|COMPLETED|None|0:01|UNLIMITED|512M|2026-11-24T01:51:33|t
            """)
        let s = SlurmAccounting.assemble(rows, supplement: q, backend: "slurm")
        XCTAssertEqual(s["20"]?.state, .failed)
        XCTAssertEqual(s["20"]?.tasks.map(\.index), [2, 3])
        XCTAssertEqual(s["21"]?.state, .succeeded)
    }

    func testPollWithoutAccountingFallsBackAndRemembers() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig())
        let ref = JobRef(backend: "slurm", jobID: "3")
        fake.expect(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=3", fields],
                    stderr: "sacct: error: Slurm accounting storage is disabled\n", status: 1)
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=3", squeueFormat],
                    stdout: "3|TIMEOUT|TimeLimit|1:16|1:00|512M|2026-11-22T22:25:34|timeout\n")
        XCTAssertEqual(try backend.poll([ref])[ref]?.state, .timeout)
        XCTAssertTrue(backend.accountingDisabled)
        // the next poll goes straight to squeue; a single unknown id makes squeue exit 1
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=3", squeueFormat],
                    stderr: "slurm_load_jobs error: Invalid job id specified\n", status: 1)
        XCTAssertTrue(try backend.poll([ref]).isEmpty)
        fake.assertAllUsed()
    }

    func testCancel() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig())
        let running = JobRef(backend: "slurm", jobID: "22")
        fake.expect(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=22", fields],
                    stdout: try SlurmFixtures.text("sacct-requeue.txt"))
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=22", squeueFormat],
                    stdout: "22|RUNNING|None|0:03|UNLIMITED|512M|2026-11-22T22:36:14|requeue-fast\n")
        fake.expect(["scancel", "22"])
        try backend.cancel(running)
        // unknown to both tools: scancel would exit 0, so expt says so instead
        let unknown = JobRef(backend: "slurm", jobID: "99999")
        fake.expect(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=99999", fields])
        fake.expect(["squeue", "--noheader", "--array", "--states=all", "--jobs=99999", squeueFormat],
                    stderr: "slurm_load_jobs error: Invalid job id specified\n", status: 1)
        XCTAssertThrowsError(try backend.cancel(unknown)) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .notFound)
            XCTAssertEqual(($0 as? ExptError)?.message, "job 99999 is not known to Slurm")
        }
        fake.assertAllUsed()
    }

    func testLookupAndLogs() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let backend = SlurmBackend(runner: fake, config: SlurmConfig())
        fake.expect(["squeue", "--noheader", "--states=all", "--name=expt.r7.exp-lr", "--format=%i"], stdout: "")
        fake.expect(["sacct", "--parsable2", "--noheader", "--allocations", "--starttime=now-30days",
                     "--name=expt.r7.exp-lr", "--format=JobID"], stdout: "98\n120_[1-3]\n120_0\n")
        XCTAssertEqual(try backend.lookup(jobName: "expt.r7.exp-lr", spec: spec())?.jobID, "120")
        fake.expect(["squeue", "--noheader", "--states=all", "--name=expt.r7.exp-lr", "--format=%i"], stdout: "131\n")
        XCTAssertEqual(try backend.lookup(jobName: "expt.r7.exp-lr", spec: spec())?.jobID, "131")
        fake.assertAllUsed()

        var arraySpec = spec()
        arraySpec.array = ArraySpec(indices: [0, 5])
        let logs = backend.logs(JobRef(backend: "slurm", jobID: "1"), spec: arraySpec)
        XCTAssertEqual(logs.map(\.path), ["stdout.0.log", "stderr.0.log", "stdout.5.log", "stderr.5.log"]
                        .map { dir + "/runs/r7/" + $0 })
        XCTAssertEqual(logs.map(\.kind), [.stdout, .stderr, .stdout, .stderr])
        XCTAssertFalse(logs[0].remote)
    }

    func testFakeRunnerIsStrict() {
        let fake = FakeProcessRunner(failTestOnUnexpectedCall: false)
        fake.expect(["a"])
        fake.expect(["b"])
        XCTAssertThrowsError(try fake.run(["b"]))       // out of order
        XCTAssertEqual(try fake.run(["a"]).status, 0)
        XCTAssertEqual(fake.failures, [#"unexpected command ["b"]; next expected: ["a"]"#])
        XCTAssertEqual(fake.calls.map(\.argv), [["b"], ["a"]])
    }
}

/// Each backend owns its settings: decoded from its own table, unknown keys and wrong types
/// rejected with file and line.
final class BackendSettingsTests: XCTestCase {
    func config(_ text: String) throws -> ExptConfig {
        var c = ExptConfig()
        try c.apply(text: text, file: "repo/expt.toml", backends: BackendRegistry.standard)
        return c
    }

    func testSlurmTableBuildsTheBackendWithItsSettings() throws {
        let c = try config("backend = \"slurm\"\n[slurm]\npartition = \"gpu\"\nexec_prefix = [\"ssh\", \"login1\"]\nrequeue = false\n")
        let context = BackendContext(repoRoot: "/nonexistent", runsDir: "/tmp/runs", selfExecutable: "/bin/true",
                                     runner: FakeProcessRunner(checkedBy: self))
        let b = try XCTUnwrap(try BackendRegistry.standard.make("slurm", table: c.backendTables["slurm"], context: context) as? SlurmBackend)
        XCTAssertEqual(b.config.partition, "gpu")
        XCTAssertEqual(b.config.execPrefix, ["ssh", "login1"])
        XCTAssertFalse(b.config.requeue)
        XCTAssertNotNil(b.config.scriptTemplate, "the shipped sbatch template")
    }

    func testRequeueDefaultsToOn() throws {
        let context = BackendContext(repoRoot: "/nonexistent", runsDir: "/tmp/runs", selfExecutable: "/bin/true",
                                     runner: FakeProcessRunner(checkedBy: self))
        let b = try XCTUnwrap(try BackendRegistry.standard.make("slurm", table: nil, context: context) as? SlurmBackend)
        XCTAssertTrue(b.config.requeue)
    }

    func testUnknownAndMistypedSlurmKeysNameFileAndLine() {
        for (text, expected) in [("[slurm]\npartiton = \"gpu\"\n", ["repo/expt.toml:2", "partiton", "partition"]),
                                 ("\n[slurm]\nexec_prefix = \"ssh login1\"\n", ["repo/expt.toml:3", "exec_prefix", "array"]),
                                 ("[local]\nmem = \"1G\"\n", ["repo/expt.toml:2", "local.mem"])] {
            XCTAssertThrowsError(try config(text), text) { error in
                let message = "\(error)"
                for e in expected { XCTAssertTrue(message.contains(e), "\(e) not in: \(message)") }
            }
        }
    }

    func testTheLocalTableChoosesHowMemoryIsEnforced() throws {
        let context = BackendContext(repoRoot: "/nonexistent", runsDir: "/tmp/runs", selfExecutable: "/bin/true",
                                     runner: FakeProcessRunner(checkedBy: self))
        let byDefault = try XCTUnwrap(try BackendRegistry.standard.make("local", table: nil, context: context) as? LocalBackend)
        XCTAssertEqual(byDefault.memoryEnforcement, "auto")
        let c = try config("[local]\nmemory_enforcement = \"sampling\"\n")
        let sampling = try XCTUnwrap(try BackendRegistry.standard.make("local", table: c.backendTables["local"], context: context) as? LocalBackend)
        XCTAssertEqual(sampling.memoryEnforcement, "sampling")
        let bad = try config("[local]\nmemory_enforcement = \"kernel\"\n")
        XCTAssertThrowsError(try BackendRegistry.standard.make("local", table: bad.backendTables["local"], context: context)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("memory_enforcement = \"kernel\" is not a mode expt knows"), message)
            XCTAssertTrue(message.contains("\"auto\", \"cgroup\", \"sampling\""), message)
        }
    }

    func testTheStandardRegistryListsEveryBackendLocalFirst() {
        XCTAssertEqual(BackendRegistry.standard.backendNames.first, "local", "the default backend")
        XCTAssertTrue(Set(BackendRegistry.standard.backendNames).isSuperset(of: ["local", "slurm", "argo"]))
        XCTAssertEqual(Set(BackendRegistry.standard.backendNames).count, BackendRegistry.standard.backendNames.count, "names are unique")
    }

    func testSlurmPendingReasonsThatBlockAStart() {
        let b = SlurmBackend(runner: FakeProcessRunner(checkedBy: self), config: SlurmConfig())
        XCTAssertEqual(b.pendingVerdict(reason: "Priority"), .waiting)
        XCTAssertEqual(b.pendingVerdict(reason: "Resources"), .waiting)
        guard case .blocked(let why) = b.pendingVerdict(reason: "ReqNodeNotAvail, UnavailableNodes:n1") else { return XCTFail() }
        XCTAssertTrue(why.contains("ReqNodeNotAvail"))
    }
}

/// The boundary holds: the core knows no backend by name, so adding one never edits it.
final class BoundaryTests: XCTestCase {
    func testNoBackendIsNamedInTheCore() throws {
        let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/ExptCore")
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: core.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertGreaterThan(files.count, 20)
        for file in files {
            let text = try String(contentsOf: core.appendingPathComponent(file), encoding: .utf8)
            for name in BackendRegistry.standard.backendNames {
                XCTAssertFalse(text.contains("\"\(name)\""), "\(file) names the \(name) backend")
                XCTAssertFalse(text.contains(name.prefix(1).uppercased() + name.dropFirst() + "Backend"), "\(file) uses the \(name) backend's type")
                // "local" is also an ordinary word; every other name must not appear at all.
                if name != "local" {
                    XCTAssertNil(text.range(of: "\\b\(name)\\b", options: [.regularExpression, .caseInsensitive]), "\(file) mentions \(name)")
                }
            }
        }
    }
}
