import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// Hostile input cannot crash or hang expt (issue 10, class 7): huge sizes, times and array
/// ranges are errors that name the limit (R25, R35), on the command line and in expt.toml;
/// FIFOs, sockets and devices are refused as logs instead of read forever (R26).
final class HostileInputTests: XCTestCase {
    func testHugeSizesTimesAndArraysAreErrorsThatNameTheLimit() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/t")
        for (args, words) in [(["--mem", "9223372036854775807T"], "--mem '9223372036854775807T' is too large: at most 1024T"),
                              (["--mem", "99999999999999999G"], "is too large: at most 1024T"),
                              (["--mem", "1025T"], "is too large: at most 1024T"),
                              (["--mem", "lots"], "--mem 'lots' is not a size like 4G or 512M"),
                              (["--time", "999999999999999999d"], "is not a time"),
                              (["--array", "0-999999999"], "--array '0-999999999' goes above the limit: array indices must be below 1000000"),
                              (["--array", "99999999999999999999999"], "goes above the limit"),
                              (["--array", "5,1000000%2"], "goes above the limit"),
                              (["--array", "%"], "is not a range like 0-9")] {
            let r = h.run(["launch", "exp/t", "--dry-run", "--backend", "fake"] + args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(h.run(["launch", "exp/t", "--dry-run", "--mem", "1024T"]).status, 0, "the limit itself is fine")
        XCTAssertEqual(ArraySpec.parse("0-999999")?.indices.count, 1_000_000)
        for (toml, words, line) in [("[resources]\nmem = \"9223372036854775807T\"\n", "is too large: at most 1024T", 4),
                                    ("[resources]\ntime = \"999999999999999999d\"\n", "is not a time", 4),
                                    ("array = \"0-99999999999\"\n", "is not an array range", 3)] {
            try h.repo.write("expt.toml", "command = \"true\"\nbackend = \"fake\"\n" + toml, in: h.worktree("exp/t"))
            let r = h.run(["launch", "exp/t", "--dry-run", "--allow-dirty"])
            XCTAssertEqual(r.status, 2, "\(toml): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words) && r.stderr.contains("expt.toml:\(line)"), "\(toml): \(r.stderr)")
        }
    }

    func testFIFOsSocketsAndDevicesAreNotLogs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        try "Killed\n".write(toFile: dir + "/real.log", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.log", withDestinationPath: dir + "/real.log")
        let h = try CLIHarness()
        for (path, kind) in [(dir + "/fifo", "a FIFO"), ("/dev/zero", "a device"), ("/dev/urandom", "a device")] {
            let r = h.run(["diagnose", "--log", path])
            XCTAssertEqual(r.status, 2, "\(path): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("\(path) is \(kind), not a log file"), r.stderr)
        }
        XCTAssertEqual(h.run(["diagnose", "--log", dir + "/link.log"]).status, 0, "a symlink to a regular file is a log")
    }

    /// R28: odd files are named for what they are, with exit 2 or 3, never a raw Foundation error.
    func testOddFilesAreNamedForWhatTheyAre() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/t")
        let wt = h.worktree("exp/t")
        try FileManager.default.removeItem(atPath: wt + "/expt.toml")
        try FileManager.default.createDirectory(atPath: wt + "/expt.toml", withIntermediateDirectories: true)
        var r = h.run(["launch", "exp/t", "--dry-run", "--allow-dirty"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(wt)/expt.toml is a directory, not a file"), r.stderr)
        try FileManager.default.removeItem(atPath: wt + "/expt.toml")
        var bytes = Array("command = \"true\"\n# caf".utf8) + [0xFF, 0xFE] + Array("\nbackend = \"fake\"\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: wt + "/expt.toml"))
        r = h.run(["launch", "exp/t", "--dry-run", "--allow-dirty"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(wt)/expt.toml:2: invalid UTF-8 byte 0xFF"), r.stderr)
        bytes = Array("command = \"caf\u{e9}\"\nbackend = \"fake\"\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: wt + "/expt.toml"))
        XCTAssertEqual(h.run(["launch", "exp/t", "--dry-run", "--allow-dirty"]).status, 0, "real UTF-8 is fine")
        // .worktrees as a file.
        let aside = h.repo.root.appendingPathComponent("wt-aside").path
        try FileManager.default.moveItem(atPath: h.path + "/.worktrees", toPath: aside)
        try "f\n".write(toFile: h.path + "/.worktrees", atomically: true, encoding: .utf8)
        for args in [["new", "exp/f"], ["worktree", "exp/t"]] {
            r = h.run(args)
            XCTAssertEqual(r.status, 3, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(".worktrees is a file; expt keeps the experiments' worktrees in that directory"), "\(args): \(r.stderr)")
        }
    }
}
