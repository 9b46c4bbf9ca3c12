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
