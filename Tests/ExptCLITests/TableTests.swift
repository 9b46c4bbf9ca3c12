import XCTest
@testable import ExptCLI

/// Human tables: columns padded to the widest cell as a terminal shows it (Characters, so a
/// non-ASCII cell lines up too), two spaces apart, the last column unpadded.
final class TableTests: XCTestCase {
    func testColumnsLineUpForASCIIAndNonASCIICells() {
        let text = Table.render(["BRANCH", "STATE", "NOTE"], [
            ["exp/a", "running", "ok"],
            ["exp/é✓", "failed", "—"],
            ["exp/longer-name", "x", ""],
        ])
        XCTAssertEqual(text, """
            BRANCH           STATE    NOTE
            exp/a            running  ok
            exp/é✓           failed   —
            exp/longer-name  x        
            """)
    }
}
