import XCTest
@testable import ExptTOML

/// Shared assertions so each test states only the document and the expectation.
extension XCTestCase {
    func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLTable {
        do {
            return try TOML.parse(text, file: "t.toml")
        } catch {
            XCTFail("unexpected parse error: \(error)", file: file, line: line)
            return TOMLTable()
        }
    }

    /// Parses `text`, expecting failure, and returns the error for inspection.
    @discardableResult
    func parseError(_ text: String, line expectedLine: Int? = nil, contains fragment: String? = nil,
                    file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
        do {
            let table = try TOML.parse(text, file: "t.toml")
            XCTFail("expected an error, parsed \(table)", file: file, line: line)
            return nil
        } catch let error as TOMLError {
            if let expectedLine {
                XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line)
            }
            if let fragment {
                XCTAssertTrue(error.description.contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
            }
            XCTAssertEqual(error.file, "t.toml", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
            return nil
        }
    }

    /// The single value of `key = <value>`.
    func value(_ literal: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLValue? {
        parse("v = \(literal)\n", file: file, line: line)["v"]
    }
}
