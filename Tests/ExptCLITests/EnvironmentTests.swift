import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// The `EXPT_*` switches are read once, into the environment value, with bad values ignored.
final class EnvironmentTests: XCTestCase {
    func testSwitchesAreParsedWithDefaults() {
        let defaults = ExptSwitches([:])
        XCTAssertEqual(defaults.outboxBackoff, 300)
        XCTAssertEqual(defaults.commandTimeout, SystemProcessRunner.defaultTimeout)
        XCTAssertFalse(defaults.trace)
        let set = ExptSwitches(["EXPT_OUTBOX_BACKOFF": "0", "EXPT_COMMAND_TIMEOUT": "7.5", "EXPT_TRACE": "1"])
        XCTAssertEqual(set.outboxBackoff, 0)
        XCTAssertEqual(set.commandTimeout, 7.5)
        XCTAssertTrue(set.trace)
        let bad = ExptSwitches(["EXPT_COMMAND_TIMEOUT": "-1", "EXPT_OUTBOX_BACKOFF": "soon", "EXPT_TRACE": "0"])
        XCTAssertEqual(bad.commandTimeout, SystemProcessRunner.defaultTimeout, "a deadline must be positive")
        XCTAssertEqual(bad.outboxBackoff, 300)
        XCTAssertFalse(bad.trace)
    }

    /// EXPT_TRACE shows each external command, its status and time, with secrets redacted.
    func testTracingRunnerShowsCommandsRedacted() throws {
        let lines = Captured()
        let runner = TracingRunner(base: SystemProcessRunner(timeout: 10)) { lines.add($0) }
        let r = try runner.run(["bash", "-c", "exit 3", "GITHUB_TOKEN=ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
        XCTAssertEqual(r.status, 3)
        XCTAssertThrowsError(try runner.run(["expt-no-such-tool-42"]))
        let text = lines.text
        XCTAssertTrue(text.contains("expt: trace: bash -c 'exit 3'") && text.contains("→ exit 3 in"), text)
        XCTAssertFalse(text.contains("ghp_AAAA"), "redacted: \(text)")
        XCTAssertTrue(text.contains("expt-no-such-tool-42 → expt-no-such-tool-42 is not installed"), text)
    }
}

private final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.withLock { lines.append(s) } }
    var text: String { lock.withLock { lines.joined() } }
}
