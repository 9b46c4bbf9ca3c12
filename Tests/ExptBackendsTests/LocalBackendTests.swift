import ExptCore
import ExptModel
import Foundation
import XCTest
@testable import ExptBackends

/// The local backend with real processes: the built `expt` binary supervises real jobs.
final class LocalBackendTests: LocalBackendTestCase {
    func testSuccessCapturesOutputEnvironmentAndWorkdir() throws {
        let spec = spec("r1", #"echo hello; echo "$EXPT_RUN_ID $EXPT_BRANCH $FOO"; echo oops >&2; pwd"#,
                        environment: ["FOO": "bar"])
        let ref = try backend.submit(spec)
        XCTAssertTrue(ref.jobID.hasPrefix("r1."), ref.jobID)
        XCTAssertEqual(ref.backend, "local")
        XCTAssertEqual(try backend.lookup(jobName: spec.jobName, spec: spec), ref)

        let status = try waitForEnd(ref)
        XCTAssertEqual(status.state, .succeeded)
        XCTAssertEqual(status.rawState, "COMPLETED")
        XCTAssertEqual(status.exitCode, 0)
        XCTAssertNotNil(status.startedAt)
        XCTAssertNotNil(status.endedAt)
        XCTAssertEqual(read("\(spec.logDir)/stdout.log"), "hello\nr1 exp/local bar\n\(workdir)\n")
        XCTAssertEqual(read("\(spec.logDir)/stderr.log"), "oops\n")
        XCTAssertEqual(backend.logs(ref, spec: spec).map(\.path), ["\(spec.logDir)/stdout.log", "\(spec.logDir)/stderr.log"])
    }

    func testNonZeroExitIsAFailureWithItsCode() throws {
        let ref = try backend.submit(spec("r2", "echo about to fail; exit 3"))
        let status = try waitForEnd(ref)
        XCTAssertEqual(status.state, .failed)
        XCTAssertEqual(status.rawState, "FAILED")
        XCTAssertEqual(status.exitCode, 3)
        XCTAssertEqual(status.reason, "exit code 3")
    }

    func testTimeLimitTerminatesThenKills() throws {
        let spec = spec("r4", "sleep 30", timeLimit: 1)
        let started = Date()
        let status = try waitForEnd(try backend.submit(spec))
        XCTAssertEqual(status.state, .timeout)
        XCTAssertEqual(status.rawState, "TIMEOUT")
        XCTAssertEqual(status.timeLimitSeconds, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(read("\(spec.logDir)/stderr.log").contains("expt-local: error: *** JOB CANCELLED DUE TO TIME LIMIT (00:00:01) ***"))
    }

    func testTimeLimitGivesTheJobAChanceToCheckpoint() throws {
        let script = "trap 'echo step-42 > checkpoint.txt; exit 0' TERM; echo training; sleep 30 & wait"
        let status = try waitForEnd(try backend.submit(spec("r5", script, timeLimit: 1)))
        XCTAssertEqual(status.state, .timeout, "a job that exits cleanly on TERM still ran out of time")
        XCTAssertEqual(read("\(workdir)/checkpoint.txt"), "step-42\n")
    }

    func testTimeLimitEscalatesToKillWhenTermIsIgnored() throws {
        let started = Date()
        let status = try waitForEnd(try backend.submit(spec("r6", "trap '' TERM; sleep 30 & wait", timeLimit: 1)))
        XCTAssertEqual(status.state, .timeout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "SIGKILL after the 1 s grace")
    }

    func testCancelKillsTheWholeProcessGroup() throws {
        let spec = spec("r7", "sleep 100 & echo $! > grandchild.pid; echo $$ > job.pid; sleep 100")
        let ref = try backend.submit(spec)
        try eventually("the job to start") {
            try backend.poll([ref])[ref]?.state == .running && !read("\(workdir)/grandchild.pid").isEmpty
                && !read("\(workdir)/job.pid").isEmpty
        }
        let grandchild = try XCTUnwrap(Int32(read("\(workdir)/grandchild.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        let job = try XCTUnwrap(Int32(read("\(workdir)/job.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertTrue(isAlive(grandchild))

        try backend.cancel(ref)
        let status = try waitForEnd(ref)
        XCTAssertEqual(status.state, .cancelled)
        XCTAssertEqual(status.rawState, "CANCELLED")
        XCTAssertFalse(isAlive(grandchild), "the background grandchild died with the group")
        XCTAssertFalse(isAlive(job))
        XCTAssertNoThrow(try backend.cancel(ref), "cancelling a finished job is a no-op")
        XCTAssertEqual(try backend.poll([ref])[ref]?.state, .cancelled)
    }

    func testJobOutlivesItsSubmitterAndIgnoresHangup() throws {
        let spec = spec("r8", "sleep 1; echo survived")
        var submitter: LocalBackend? = LocalBackend(supervisorExecutable: backend.supervisorExecutable, runsRoot: runsRoot)
        let ref = try submitter!.submit(spec)
        submitter = nil
        let pid = try XCTUnwrap(LocalBackend.parse(ref.jobID)?.pid)
        kill(pid, SIGHUP)

        let fresh = LocalBackend(supervisorExecutable: "/nonexistent", runsRoot: runsRoot)
        let early = try fresh.poll([ref])[ref]?.state
        XCTAssertTrue(early == .pending || early == .running, "\(String(describing: early))")
        let status = try waitForEnd(ref, backend: fresh)
        XCTAssertEqual(status.state, .succeeded)
        XCTAssertEqual(read("\(spec.logDir)/stdout.log"), "survived\n")
    }

    func testForgedSupervisorWithAReusedPIDIsLostNeverRunning() throws {
        let me = getpid()
        let files = LocalRunFiles(dir: "\(runsRoot)/r9")
        try FileManager.default.createDirectory(atPath: files.dir, withIntermediateDirectories: true)
        try LocalRunFiles.writeAtomically(spec("r9", "true"), to: files.spec)
        let realTicks = try XCTUnwrap(ProcStat.read(pid: me)?.startTicks)
        try LocalRunFiles.writeAtomically(
            SupervisorInfo(pid: me, startTicks: realTicks + 1, pgid: me, jobPgid: me, jobStartTicks: realTicks + 1),
            to: files.supervisor)

        let ref = JobRef(backend: "local", jobID: "r9.\(me)")
        let status = try XCTUnwrap(try backend.poll([ref])[ref])
        XCTAssertEqual(status.state, .lost)
        XCTAssertEqual(status.reason, "the supervisor process is gone and left no exit status")
        XCTAssertNoThrow(try backend.cancel(ref))   // must not signal us: we are not that job
        XCTAssertTrue(isAlive(me))
    }

    func testTerminatingTheSupervisorCancelsTheJob() throws {
        let ref = try backend.submit(spec("r14", "sleep 30"))
        try eventually("the job to start") { try backend.poll([ref])[ref]?.state == .running }
        kill(try XCTUnwrap(LocalBackend.parse(ref.jobID)?.pid), SIGTERM)
        let status = try waitForEnd(ref)
        XCTAssertEqual(status.state, .cancelled)
        XCTAssertEqual(status.reason, "the supervisor was terminated")
    }

    func testAKilledSupervisorIsLostAndCancelStillStopsItsOrphanedJob() throws {
        let ref = try backend.submit(spec("r15", "echo $$ > job.pid; sleep 30"))
        // Wait until the supervisor has recorded the job's process group too (it rewrites
        // supervisor.json just after the job starts); only then can an orphan be found.
        eventually("the job to start") {
            !read("\(workdir)/job.pid").isEmpty && read("\(runsRoot)/r15/supervisor.json").contains("job_pgid")
        }
        let job = try XCTUnwrap(Int32(read("\(workdir)/job.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(try XCTUnwrap(LocalBackend.parse(ref.jobID)?.pid), SIGKILL)
        try eventually("the supervisor to be gone") { try backend.poll([ref])[ref]?.state == .lost }
        let status = try XCTUnwrap(try backend.poll([ref])[ref])
        XCTAssertEqual(status.reason, "the supervisor process is gone and left no exit status; the job's processes are still running (cancel it to stop them)")
        XCTAssertTrue(isAlive(job))

        try backend.cancel(ref)
        eventually("the orphaned job to die") { !isAlive(job) }
        XCTAssertEqual(try backend.poll([ref])[ref]?.reason, "the supervisor process is gone and left no exit status")
    }

    func testUnknownRefsAreLeftOutOfThePoll() throws {
        let refs = [JobRef(backend: "local", jobID: "r404.123"), JobRef(backend: "local", jobID: "garbage")]
        XCTAssertEqual(try backend.poll(refs), [:])
        XCTAssertThrowsError(try backend.cancel(refs[0])) { XCTAssertEqual(($0 as? ExptError)?.kind, .notFound) }
        XCTAssertNil(try backend.lookup(jobName: "expt.r404.x", spec: spec("r404", "true")))
    }

    func testRerunInTheSameDirectoryAppendsLogsAndOwnsItsStatus() throws {
        let first = try backend.submit(spec("r10", "echo first; echo e1 >&2; exit 1"))
        XCTAssertEqual(try waitForEnd(first).state, .failed)
        let second = try backend.submit(spec("r10", "echo second; echo e2 >&2"))
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try waitForEnd(second).state, .succeeded)
        XCTAssertEqual(read("\(runsRoot)/r10/stdout.log"), "first\nsecond\n")
        XCTAssertEqual(read("\(runsRoot)/r10/stderr.log"), "e1\ne2\n")
        XCTAssertNil(try backend.poll([first])[first], "the first supervisor's status was superseded")
    }

    func testMissingWorkdirFailsWithAClearLine() throws {
        var spec = spec("r11", "true")
        spec.workdir = "\(root!)/no-such-dir"
        let status = try waitForEnd(try backend.submit(spec))
        XCTAssertEqual(status.state, .failed)
        XCTAssertTrue(read("\(spec.logDir)/stderr.log").contains("expt-local: error: cannot enter the working directory"))
    }

    func testArrayJobsAreRefused() {
        var spec = spec("r12", "true")
        spec.array = ArraySpec(indices: [0, 1])
        XCTAssertThrowsError(try backend.submit(spec)) { XCTAssertEqual(($0 as? ExptError)?.kind, .invalidInput) }
    }

    func testABrokenSupervisorBinaryFailsTheSubmitClearly() {
        let broken = LocalBackend(supervisorExecutable: "/bin/false", runsRoot: runsRoot)
        XCTAssertThrowsError(try broken.submit(spec("r13", "true"))) { error in
            XCTAssertTrue("\(error)".contains("exited before starting the job"), "\(error)")
        }
    }
}
