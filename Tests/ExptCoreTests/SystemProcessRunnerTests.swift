import XCTest
import ExptModel
@testable import ExptCore

/// The real process runner and the exec-prefix wrapper, against real local processes.
final class SystemProcessRunnerTests: XCTestCase {
    let runner = SystemProcessRunner()

    func testCapturesOutputStatusAndStdin() throws {
        let r = try runner.run(["bash", "-c", "cat; echo err >&2; exit 3"], stdin: Data("in put\n".utf8),
                               environment: nil, cwd: nil)
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, "in put\n")
        XCTAssertEqual(r.stderr, "err\n")
        XCTAssertEqual(r.argv, ["bash", "-c", "cat; echo err >&2; exit 3"])
    }

    func testEnvironmentIsMergedAndCwdApplied() throws {
        let r = try runner.run(["bash", "-c", "echo \"$EXPT_TEST_VAR|${PATH:+has-path}|$PWD\""], stdin: nil,
                               environment: ["EXPT_TEST_VAR": "x y"], cwd: "/tmp")
        XCTAssertEqual(r.stdout, "x y|has-path|/tmp\n")
    }

    func testMissingToolIsAClearError() {
        XCTAssertThrowsError(try runner.run(["expt-no-such-tool-42", "--help"])) { error in
            XCTAssertEqual(error as? ProcessError, .toolMissing(tool: "expt-no-such-tool-42"))
            let e = error as? UserFacingError
            XCTAssertEqual(e?.kind, .external)
            XCTAssertEqual(e?.message, "expt-no-such-tool-42 is not installed or not on PATH")
            XCTAssertNotNil(e?.hint)
        }
    }

    /// A hung command (an ssh waiting on a dead host) becomes an error that names it, after
    /// the deadline: not a hang.
    func testHungCommandIsStoppedAtItsDeadline() {
        let start = Date()
        XCTAssertThrowsError(try SystemProcessRunner(timeout: 0.5).run(["sleep", "30"])) { error in
            XCTAssertEqual(error as? ProcessError, .timedOut(argv: ["sleep", "30"], seconds: 0.5))
            let text = (error as? UserFacingError)?.message ?? ""
            XCTAssertTrue(text.contains("`sleep 30`") && text.contains("did not finish within"), text)
            XCTAssertTrue((error as? UserFacingError)?.hint?.contains("EXPT_COMMAND_TIMEOUT") == true)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "stopped at the deadline, not after the command")
    }

    /// A child that ignores SIGTERM is killed 2 s after the deadline.
    func testCommandIgnoringTermIsKilled() {
        let start = Date()
        XCTAssertThrowsError(try SystemProcessRunner(timeout: 0.3).run(["bash", "-c", "trap '' TERM; sleep 30"]))
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)
    }

    /// 8 MiB on each of stdout and stderr plus 4 MiB of stdin that is only read at the end:
    /// with sequential reads or writes this would block on a full pipe.
    func testLargeOutputOnBothPipesDoesNotDeadlock() throws {
        let input = Data(repeating: UInt8(ascii: "a"), count: 4 << 20)
        let script = "head -c 8388608 /dev/zero; head -c 8388608 /dev/zero >&2; wc -c"
        let r = try runner.run(["bash", "-c", script], stdin: input, environment: nil, cwd: nil)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout.utf8.count, 8 << 20 + "4194304\n".utf8.count)
        XCTAssertEqual(r.stderr.utf8.count, 8 << 20)
    }

    func testChildIgnoringStdinAndSignalDeath() throws {
        let r = try runner.run(["true"], stdin: Data(count: 1 << 20), environment: nil, cwd: nil)
        XCTAssertEqual(r.status, 0)                     // EPIPE on our side is not fatal
        let killed = try runner.run(["bash", "-c", "kill -9 $$"])
        XCTAssertEqual(killed.status, 137)
        // children get the default SIGPIPE disposition back even though expt ignores it
        let pipe = try runner.run(["bash", "-c", "yes | head -1; echo ${PIPESTATUS[0]}"])
        XCTAssertEqual(pipe.stdout, "y\n141\n")
        XCTAssertEqual(pipe.stderr, "")
    }

    /// Through `bash -c` as the prefix (a stand-in for ssh), every argument arrives unchanged.
    func testPrefixedRunnerQuotesEachArgumentOnce() throws {
        let nasty = ["plain", "with space", "it's", "\"double\"", "$HOME", "$(echo pwned)", "a;b", "`x`",
                     "line1\nline2", "", "*", "back\\slash", "tab\there", "--flag=a b", "ü"]
        let prefixed = PrefixedRunner(prefix: ["bash", "-c"])
        let r = try prefixed.run(["printf", "%s\\0"] + nasty)
        XCTAssertEqual(r.status, 0, r.stderr)
        var got = r.stdout.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(got.popLast(), "")
        XCTAssertEqual(got, nasty)
        XCTAssertEqual(r.argv.count, 3)
    }

    func testPrefixPlaceholderAndEmptyPrefix() throws {
        let wrapped = PrefixedRunner(prefix: ["bash", "-c", "export GREETING=hi && {cmd}"])
        let r = try wrapped.run(["bash", "-c", "echo \"$GREETING $0\"", "it's"])
        XCTAssertEqual(r.stdout, "hi it's\n")
        XCTAssertEqual(PrefixedRunner(prefix: []).wrap(["a b"]), ["a b"])
        XCTAssertEqual(PrefixedRunner(prefix: ["ssh", "login1"]).wrap(["sacct", "--jobs=1,2", "%i|%T"]),
                       ["ssh", "login1", "sacct --jobs=1,2 '%i|%T'"])
    }
}
