import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// Errors as agents read them: one snake_case kind vocabulary, JSON on stdout with --json for
/// every kind of error (usage errors too), and the documented exit code.
final class ErrorOutputTests: XCTestCase {
    func testNotARepositoryIsAJSONNotFoundError() throws {
        let h = try CLIHarness()
        let outside = h.repo.root.path   // the temp dir around the repository: no repository
        let r = h.run(["status", "--json"], in: outside)
        XCTAssertEqual(r.status, 4, r.stderr)
        let error = try XCTUnwrap(try r.object()["error"] as? [String: Any])
        XCTAssertEqual(error["kind"] as? String, "not_found")
        XCTAssertEqual(error["exit_code"] as? Int, 4)
        XCTAssertTrue((error["message"] as? String ?? "").contains("not inside a git repository"), "\(error)")
        XCTAssertNotNil(error["hint"] as? String)
    }

    func testUsageErrorWithJSONPrintsAJSONUsageError() throws {
        let h = try CLIHarness()
        for args in [["status", "--json", "--no-such-flag"], ["--json", "no-such-command"], ["logs", "--json"]] {
            let r = h.run(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            let error = try XCTUnwrap(try r.object()["error"] as? [String: Any], "\(args): \(r.stdout)")
            XCTAssertEqual(error["kind"] as? String, "usage", "\(args)")
            XCTAssertEqual(error["exit_code"] as? Int, 64)
            XCTAssertTrue(r.stderr.hasPrefix("error: "), "one error prefix for every error: \(r.stderr)")
        }
    }

    func testUsageErrorWithoutJSONPrintsNothingOnStdout() throws {
        let h = try CLIHarness()
        let r = h.run(["status", "--no-such-flag"])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("--no-such-flag"), r.stderr)
    }

    func testEveryErrorKindIsSnakeCase() {
        for kind in ErrorKind.allCases {
            XCTAssertEqual(kind.rawValue, kind.rawValue.lowercased(), "\(kind)")
            XCTAssertFalse(kind.rawValue.contains(" "))
        }
        XCTAssertEqual(ErrorKind.invalidInput.rawValue, "invalid_input")
        XCTAssertEqual(ErrorKind.notFound.rawValue, "not_found")
    }

    func testInvalidBranchNameIsInvalidInputInJSON() throws {
        let h = try CLIHarness()
        try h.initialize()
        let r = h.run(["new", "bad..name", "--json"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual((try r.object()["error"] as? [String: Any])?["kind"] as? String, "invalid_input")
    }

    func testUnknownKeyInABackendTableNamesFileAndLine() throws {
        let h = try CLIHarness()
        try h.initialize("command = \"python3 train.py\"\nbackend = \"fake\"\n\n[fake]\nflavour = 1\n")
        try h.experiment("exp/a")
        let r = h.run(["launch", "exp/a", "--json"])
        XCTAssertEqual(r.status, 2, r.stderr)
        let message = try XCTUnwrap((try r.object()["error"] as? [String: Any])?["message"] as? String)
        XCTAssertTrue(message.contains("expt.toml:5") && message.contains("fake.flavour"), message)
    }

    func testUnknownBackendListsTheRegisteredOnes() throws {
        let h = try CLIHarness()
        try h.initialize("command = \"true\"\nbackend = \"kubernetes-ish\"\n")
        try h.experiment("exp/a")
        let r = h.run(["launch", "exp/a"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("local") && r.stderr.contains("fake"), r.stderr)
    }
}

/// Issue 10, R20: out-of-range resource flags and durations are usage errors (exit 64) that say
/// the range, before anything runs.
final class FlagRangeTests: XCTestCase {
    func testOutOfRangeFlagsAreUsageErrors() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/t")
        for (args, words) in [(["launch", "exp/t", "--cpus=-1", "--dry-run"], "--cpus must be a whole number from 1 to 4096"),
                              (["launch", "exp/t", "--cpus", "0", "--dry-run"], "--cpus must be"),
                              (["launch", "exp/t", "--gpus=-2", "--dry-run"], "--gpus must be a whole number from 0 to 1024"),
                              (["launch", "exp/t", "--time", "25:99:99", "--dry-run"], "--time '25:99:99' is not a time"),
                              (["watch", "exp/t", "--max-duration=-5"], "--max-duration '-5' is not a duration"),
                              (["watch", "exp/t", "--max-duration=-1h"], "--max-duration '-1h' is not a duration")] {
            let r = h.run(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(h.run(["launch", "exp/t", "--cpus", "4", "--gpus", "0", "--dry-run"]).status, 0)
    }
}
