import XCTest
import ExptModel
@testable import ExptCore

/// The ledger when things go wrong: garbage files, a busy writer, a full disk; and BranchLock.
final class LedgerFailureTests: XCTestCase {
    var dir: String!
    var file: String { "\(dir!)/ledger.sqlite" }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ledger-failure-\(UUID().uuidString)/expt"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    func intent(_ ledger: Ledger, command: String = "true") throws -> RunRecord {
        try ledger.recordIntent(branch: "b", backend: "local", commit: "c", profile: nil, resources: Resources(),
                                parentRun: nil) {
            JobSpec(runID: $0, branch: "b", jobName: "expt.\($0).b", workdir: "/w", command: command, logDir: "/l/\($0)")
        }
    }

    func assertUnreadable(_ error: Error, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? ExptError else { return XCTFail("not an ExptError: \(error)", file: file, line: line) }
        XCTAssertEqual(error.kind, .failure, file: file, line: line)
        XCTAssertTrue(error.message.hasPrefix("the run ledger \(self.file) is unreadable: "), error.message, file: file, line: line)
        XCTAssertTrue(error.message.hasSuffix("; it was left untouched"), error.message, file: file, line: line)
        XCTAssertTrue(error.hint?.contains("ledger.sqlite.bad") == true, "\(error)", file: file, line: line)
    }

    func testGarbageFileIsReportedAndLeftByteForByte() throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = Data((0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try garbage.write(to: URL(fileURLWithPath: file))

        XCTAssertThrowsError(try Ledger(dir: dir)) { assertUnreadable($0) }
        XCTAssertThrowsError(try Ledger(dir: dir)) { assertUnreadable($0) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), garbage)
    }

    func testCorruptedPagesAreReportedAndLeftByteForByte() throws {
        do {
            let ledger = try Ledger(dir: dir)
            for _ in 0..<20 { _ = try intent(ledger, command: String(repeating: "x", count: 500)) }
        }   // closing the last connection checkpoints the WAL into the main file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        XCTAssertGreaterThan(bytes.count, 8192)
        let pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
        for i in pageSize..<bytes.count { bytes[i] = 0xA5 }   // every page after the header page
        try bytes.write(to: URL(fileURLWithPath: file))

        do {
            let ledger = try Ledger(dir: dir)
            XCTAssertThrowsError(try ledger.allRuns()) { assertUnreadable($0) }
            XCTAssertThrowsError(try intent(ledger)) { assertUnreadable($0) }
        } catch {
            assertUnreadable(error)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), bytes)
    }

    func testWriterHoldingTheLockMakesAClearConflictAfterTheBusyTimeout() throws {
        let ledger = try Ledger(dir: dir, busyTimeoutMS: 200)
        _ = try intent(ledger)
        let other = try SQLiteDatabase(path: file, busyTimeoutMS: 0)
        try other.exec("BEGIN IMMEDIATE")

        let started = Date()
        XCTAssertThrowsError(try intent(ledger)) { error in
            let error = error as? ExptError
            XCTAssertEqual(error?.kind, .conflict)
            XCTAssertEqual(error?.message, "the run ledger \(file) is locked by another expt process (waited 0.2 s while recording the launch of b); nothing was recorded")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.15, "it waited for the busy timeout")
        XCTAssertEqual(try ledger.allRuns().map(\.id), ["r1"], "readers are not blocked by a writer in WAL mode")
        XCTAssertEqual(try Ledger(dir: dir, busyTimeoutMS: 200).allRuns().count, 1, "nor is opening a migrated ledger")

        try other.exec("ROLLBACK")
        XCTAssertEqual(try intent(ledger).id, "r2")
    }

    func testDiskFullRollsBackTheWholeIntent() throws {
        let ledger = try Ledger(dir: dir)
        // max_page_count makes sqlite answer SQLITE_FULL exactly as a full disk would.
        try ledger.withDB("test") { db in
            let pages = try db.query("PRAGMA page_count").first?.int("page_count") ?? 0
            try db.query("PRAGMA max_page_count = \(pages)")
        }
        XCTAssertThrowsError(try intent(ledger, command: String(repeating: "y", count: 200_000))) { error in
            let error = error as? ExptError
            XCTAssertEqual(error?.kind, .failure)
            XCTAssertTrue(error?.message.contains("could not write the run ledger") == true, "\(String(describing: error))")
            XCTAssertTrue(error?.message.hasSuffix("nothing was recorded") == true)
            XCTAssertTrue(error?.hint?.contains("free disk space") == true)
        }
        try ledger.withDB("test") { try $0.query("PRAGMA max_page_count = 1073741823") }
        XCTAssertEqual(try ledger.allRuns(), [])
        XCTAssertEqual(try intent(ledger).id, "r1", "the failed transaction did not advance the counter")
    }

    func testBranchLockExcludesASecondAcquirerUntilReleased() throws {
        let lock = try BranchLock.acquire(dir: dir, branch: "exp/lr")
        XCTAssertEqual(lock.path, "\(dir!)/locks/exp%2Flr.lock")
        XCTAssertThrowsError(try BranchLock.acquire(dir: dir, branch: "exp/lr")) { error in
            let error = error as? ExptError
            XCTAssertEqual(error?.kind, .conflict)
            XCTAssertEqual(error?.message, "another expt command is already launching exp/lr (lock \(lock.path) held by pid \(getpid()))")
            XCTAssertEqual(error?.hint, "wait for it to finish; the lock is released automatically when that process exits")
        }
        let other = try BranchLock.acquire(dir: dir, branch: "exp%2Flr")   // a different branch, a different file
        XCTAssertNotEqual(other.path, lock.path)

        lock.release()
        var again: BranchLock? = try BranchLock.acquire(dir: dir, branch: "exp/lr")
        XCTAssertNotNil(again)
        again = nil   // deinit releases
        XCTAssertNoThrow(try BranchLock.acquire(dir: dir, branch: "exp/lr"))
    }
}
