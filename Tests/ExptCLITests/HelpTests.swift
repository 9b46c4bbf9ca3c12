import Foundation
import XCTest
import ExptTestSupport
@testable import ExptCLI

/// The help text is user-visible output: golden files, re-recorded with EXPT_RECORD=1.
final class HelpTests: XCTestCase {
    func testTopLevelHelp() throws {
        let h = try CLIHarness()
        let r = h.run(["--help"])
        XCTAssertEqual(r.status, 0)
        Golden.assert(r.stdout, matches: "help.txt")
    }

    func testFixAndRelaunchHelp() throws {
        let h = try CLIHarness()
        let r = h.run(["fix-and-relaunch", "--help"])
        XCTAssertEqual(r.status, 0)
        Golden.assert(r.stdout, matches: "help-fix-and-relaunch.txt")
    }

    func testLogsHelpNamesTaskAndTheBackend() throws {
        let r = try CLIHarness().run(["logs", "--help"])
        XCTAssertEqual(r.status, 0)
        Golden.assert(r.stdout, matches: "help-logs.txt")
    }
}
