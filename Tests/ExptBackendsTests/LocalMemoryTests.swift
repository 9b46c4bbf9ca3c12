import ExptCore
import ExptModel
import Foundation
import XCTest
@testable import ExptBackends

/// The local backend's memory limit with real processes, both ways it is enforced: the
/// kernel's, through a memory cgroup (where this machine lets expt make one: root, or a
/// delegated cgroup), and /proc sampling (the fallback, or `memory_enforcement = "sampling"`).
final class LocalMemoryTests: LocalBackendTestCase {
    /// Skips unless a memory cgroup can be made here (as root on cgroup v1 or v2).
    func requireCgroup() throws {
        var why = ""
        let name = "expt-probe-\(getpid())-0"
        guard let group = JobCgroup.create(name: name, limitBytes: 1 << 30, why: &why) else {
            throw XCTSkip("no memory cgroup can be made here (\(why)); the sampling tests still run")
        }
        group.remove()
    }

    func supervisorInfo(_ spec: JobSpec) -> SupervisorInfo? { LocalRunFiles(dir: spec.logDir).readSupervisor() }

    func testTheKernelKillsAJobAtItsLimitAndThePeakIsTheLimit() throws {
        try requireCgroup()
        let spec = spec("r3", #"python3 -c "b = bytearray(400*1024*1024); import time; time.sleep(30)""#, memoryMB: 100)
        let started = Date()
        let ref = try backend.submit(spec)
        let status = try waitForEnd(ref)
        XCTAssertEqual(status.state, .oom)
        XCTAssertEqual(status.rawState, "OUT_OF_MEMORY")
        XCTAssertEqual(status.requestedMemoryMB, 100)
        // The kernel never let it past the limit: the peak it counted is the limit.
        let peak = try XCTUnwrap(status.maxRSSMB)
        XCTAssertLessThanOrEqual(peak, 100)
        XCTAssertGreaterThanOrEqual(peak, 90)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "killed, not left to sleep")
        let stderr = read("\(spec.logDir)/stderr.log")
        XCTAssertTrue(stderr.contains("expt-local: error: Detected 1 oom-kill event(s): job reached its memory limit of 100M (peak \(peak)M) and the kernel killed it."), stderr)
        let info = try XCTUnwrap(supervisorInfo(spec))
        XCTAssertTrue(info.memoryEnforcement?.hasPrefix("cgroup-v") == true, "\(info)")
        let cgroup = try XCTUnwrap(info.cgroup)
        eventually("the job's cgroup to be removed") { !FileManager.default.fileExists(atPath: cgroup) }
    }

    /// docs/backends/local.md: a cgroup left by a SIGKILLed supervisor is removed by the next
    /// supervisor once it is empty.
    func testACgroupLeftByAKilledSupervisorIsRemovedByTheNextOne() throws {
        try requireCgroup()
        let first = spec("r8", "sleep 30", memoryMB: 100)
        let ref = try backend.submit(first)
        eventually("the job to start") { supervisorInfo(first)?.jobPgid != nil }
        let info = try XCTUnwrap(supervisorInfo(first))
        let left = try XCTUnwrap(info.cgroup)
        kill(info.pid, SIGKILL)
        try backend.cancel(ref)   // stops the orphaned job, as for any lost run
        eventually("the orphaned job to end") { (try? String(contentsOfFile: left + "/cgroup.procs", encoding: .utf8))?.isEmpty ?? true }
        XCTAssertTrue(FileManager.default.fileExists(atPath: left), "nobody removed it yet")
        let second = spec("r9", "true", memoryMB: 100)
        XCTAssertEqual(try waitForEnd(try backend.submit(second)).state, .succeeded)
        XCTAssertFalse(FileManager.default.fileExists(atPath: left), "the next supervisor removed the empty cgroup")
    }

    func testASpikeShorterThanAnySampleIsStillCaught() throws {
        try requireCgroup()
        // 600 MB for an instant, then a normal exit: sampling every 100 ms can miss it, the
        // kernel cannot.
        let spec = spec("r4", #"python3 -c "b = bytearray(600*1024*1024); del b""#, memoryMB: 100)
        let status = try waitForEnd(try backend.submit(spec))
        XCTAssertEqual(status.state, .oom, "\(status)")
        XCTAssertLessThanOrEqual(status.maxRSSMB ?? .max, 100)
    }

    func testAJobUnderItsLimitSucceedsWithItsPeakRecorded() throws {
        try requireCgroup()
        let spec = spec("r5", #"python3 -c "b = bytearray(50*1024*1024); import time; time.sleep(0.2)""#, memoryMB: 200)
        let status = try waitForEnd(try backend.submit(spec))
        XCTAssertEqual(status.state, .succeeded, "\(status)")
        XCTAssertGreaterThanOrEqual(status.maxRSSMB ?? 0, 50)
        XCTAssertLessThan(status.maxRSSMB ?? .max, 200)
    }

    func testSamplingKillsAJobAboveItsLimit() throws {
        let backend = LocalBackend(supervisorExecutable: try Self.exptBinary(), runsRoot: runsRoot, memoryEnforcement: "sampling")
        let spec = spec("r6", #"python3 -c "b = bytearray(400*1024*1024); import time; time.sleep(30)""#, memoryMB: 100)
        let started = Date()
        let status = try waitForEnd(try backend.submit(spec), backend: backend)
        XCTAssertEqual(status.state, .oom)
        XCTAssertEqual(status.signal, SIGKILL)
        XCTAssertGreaterThan(status.maxRSSMB ?? 0, 100, "sampling sees it above the limit before it kills")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        let stderr = read("\(spec.logDir)/stderr.log")
        XCTAssertTrue(stderr.contains("expt-local: error: Detected 1 oom-kill event(s): job used "), stderr)
        XCTAssertTrue(stderr.contains("above its memory limit of 100M; killed."), stderr)
        XCTAssertEqual(supervisorInfo(spec)?.memoryEnforcement, "sampling")
        XCTAssertNil(supervisorInfo(spec)?.cgroup)
    }

    func testSamplingSlowsDownFarFromTheLimit() {
        let limit: Int64 = 1000
        XCTAssertEqual(MemoryWatch.samplingInterval(rss: 900, limit: limit), 100_000_000)
        XCTAssertEqual(MemoryWatch.samplingInterval(rss: 600, limit: limit), 300_000_000)
        XCTAssertEqual(MemoryWatch.samplingInterval(rss: 300, limit: limit), 1_000_000_000)
        XCTAssertEqual(MemoryWatch.samplingInterval(rss: 10, limit: limit), 2_000_000_000)
        XCTAssertEqual(MemoryWatch.samplingInterval(rss: 10, limit: nil), 10_000_000_000)
    }

    /// An idle supervisor sleeps until something happens: over two seconds of a sleeping job
    /// it is woken at most a few times (the old 100 ms loop woke 20 times).
    func testAnIdleSupervisorSleepsUntilAnEvent() throws {
        for (mode, memoryMB) in [("auto", 4096), ("sampling", nil as Int?)] {
            let backend = LocalBackend(supervisorExecutable: try Self.exptBinary(), runsRoot: runsRoot, memoryEnforcement: mode)
            let spec = spec("r7-\(mode)", "sleep 30", memoryMB: memoryMB, timeLimit: 3600)
            let ref = try backend.submit(spec)
            let pid = try XCTUnwrap(LocalBackend.parse(ref.jobID)?.pid)
            eventually("the job to start") { supervisorInfo(spec)?.jobPgid != nil }
            usleep(300_000)
            let before = try switches(pid)
            sleep(2)
            let woken = try switches(pid) - before
            XCTAssertLessThanOrEqual(woken, 3, "\(mode): the supervisor woke \(woken) times in 2 s")
            // ...and still answers a cancel at once.
            let asked = Date()
            try backend.cancel(ref)
            XCTAssertEqual(try waitForEnd(ref, backend: backend).state, .cancelled)
            XCTAssertLessThan(Date().timeIntervalSince(asked), 3)
        }
    }

    func switches(_ pid: Int32) throws -> Int {
        let text = read("/proc/\(pid)/status")
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") })
        return try XCTUnwrap(Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? ""))
    }

    func testRequiredCgroupEnforcementFailsTheRunWhereThereIsNone() throws {
        // Forced: a cgroup hierarchy that does not exist is what an unprivileged user sees.
        var why = ""
        let layout = CgroupLayout.parent(mountinfo: "", selfCgroup: "", controllers: { _ in "" })
        XCTAssertNil(layout)
        XCTAssertNil(JobCgroup.create(name: "x", limitBytes: nil, why: &why, mountinfo: "", selfCgroup: ""))
        XCTAssertEqual(why, "no memory cgroup hierarchy is mounted")
    }
}
