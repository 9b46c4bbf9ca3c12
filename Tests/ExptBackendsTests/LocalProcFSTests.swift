import Foundation
import XCTest
import ExptModel
@testable import ExptBackends

/// Pure parsing behind the local backend: /proc stat lines and job ids.
final class LocalProcFSTests: XCTestCase {
    func testStatLineWithSpacesAndParenthesesInTheCommandName() throws {
        let line = "4242 (we ird) (name) S 1 4242 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345678 2560 18446744073709551615"
        let stat = try XCTUnwrap(ProcStat(line))
        XCTAssertEqual(stat.pid, 4242)
        XCTAssertEqual(stat.state, "S")
        XCTAssertEqual(stat.ppid, 1)
        XCTAssertEqual(stat.pgrp, 4242)
        XCTAssertEqual(stat.session, 4240)
        XCTAssertEqual(stat.startTicks, 987654)
        XCTAssertEqual(stat.rssPages, 2560)
        XCTAssertNil(ProcStat("4242 (truncated) S 1"))
    }

    func testOwnProcessIsAliveOnlyWithItsStartTicks() throws {
        let me = try XCTUnwrap(ProcStat.read(pid: getpid()))
        XCTAssertTrue(ProcFS.isAlive(pid: getpid(), startTicks: me.startTicks))
        XCTAssertFalse(ProcFS.isAlive(pid: getpid(), startTicks: me.startTicks + 1))
        XCTAssertFalse(ProcFS.isAlive(pid: 0, startTicks: 0))
    }

    func testJobIDParsing() {
        XCTAssertEqual(LocalBackend.parse("r12.4242")?.runID, "r12")
        XCTAssertEqual(LocalBackend.parse("r12.4242")?.pid, 4242)
        XCTAssertNil(LocalBackend.parse("r12"))
        XCTAssertNil(LocalBackend.parse(".4242"))
        XCTAssertNil(LocalBackend.parse("../x.4242"))
        XCTAssertNil(LocalBackend.parse("r12.-1"))
    }
}

/// Where a job's memory cgroup goes, from the text of /proc/self/mountinfo and /proc/self/cgroup.
final class CgroupLayoutTests: XCTestCase {
    // This project's machine: hybrid, memory on v1 (mountinfo and cgroup lines as read there).
    let hybridMounts = """
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """
    let hybridSelf = "9:name=systemd:/\n4:memory:/process_api/b655\n1:cpu:/\n0::/\n"

    func testV1MemoryIsAChildOfOurOwnCgroup() {
        let parent = CgroupLayout.parent(mountinfo: hybridMounts, selfCgroup: hybridSelf, controllers: { _ in "hugetlb" })
        XCTAssertEqual(parent, .init(parent: "/sys/fs/cgroup/memory/process_api/b655", version: .v1))
    }

    func testV2GoesUnderExptAtTheTopBecauseOfTheNoInternalProcessesRule() {
        let mounts = "25 30 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"
        let files = ["/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
                     "/sys/fs/cgroup/expt/cgroup.subtree_control": "memory\n"]
        let parent = CgroupLayout.parent(mountinfo: mounts, selfCgroup: "0::/user.slice/user-1000.slice/session-2.scope\n",
                                         controllers: { files[$0] ?? "" })
        XCTAssertEqual(parent, .init(parent: "/sys/fs/cgroup/expt", version: .v2, memoryDelegated: true))
    }

    func testNoMemoryControllerAnywhereMeansNoCgroup() {
        let mounts = "40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
        XCTAssertNil(CgroupLayout.parent(mountinfo: mounts, selfCgroup: "0::/\n", controllers: { _ in "hugetlb pids" }))
    }

    func testStatFields() {
        let oomControl = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"
        XCTAssertEqual(CgroupLayout.field("oom_kill", in: oomControl), 2)
        XCTAssertEqual(CgroupLayout.field("total_rss", in: "cache 4096\nrss 8192\ntotal_rss 12288\n"), 12288)
        XCTAssertNil(CgroupLayout.field("oom_kill", in: ""))
    }
}
