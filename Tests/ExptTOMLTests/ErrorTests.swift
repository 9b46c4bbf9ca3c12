import XCTest
@testable import ExptTOML

/// Every rejected construct reports the right line (and column where the
/// scanner knows it) with a message a user can act on.
final class ErrorTests: XCTestCase {
    func testDuplicateKeys() {
        let e = parseError("a = 1\nb = 2\na = 3", line: 3, contains: "duplicate key (first defined on line 1)")
        XCTAssertEqual(e?.key, "a")
        XCTAssertEqual(e?.description, "t.toml:3: key 'a': duplicate key (first defined on line 1)")
        parseError("[t]\nx = 1\n\nx = 2", line: 4, contains: "key 't.x': duplicate key")
        parseError("a.b = 1\na.b = 2", line: 2, contains: "key 'a.b': duplicate key")
        parseError("p = { x = 1, x = 2 }", line: 1, contains: "key 'p.x': duplicate key")
        parseError("a = 1\n\"a\" = 2", line: 2, contains: "duplicate key")
        parseError("[[t]]\nx = 1\nx = 2", line: 3, contains: "key 't.x': duplicate key")
    }

    func testRedefiningTables() {
        parseError("[t]\nx = 1\n[t]", line: 3, contains: "table [t] is already defined on line 1")
        parseError("[a.b]\n[a]\n[a.b]", line: 3, contains: "table [a.b] is already defined on line 1")
        parseError("a.b = 1\n[a]", line: 2, contains: "table [a] was already defined by dotted keys on line 1")
        parseError("a = { x = 1 }\n[a]", line: 2, contains: "already defined as an inline table on line 1")
        parseError("a = { x = 1 }\na.y = 2", line: 2, contains: "cannot add to inline table 'a'")
        parseError("a = { x = 1 }\n[a.b]", line: 2, contains: "cannot add to inline table 'a'")
        parseError("[a.b]\nx = 1\n[a]\nb.y = 2", line: 4, contains: "cannot add to table [a.b]")
        parseError("a = 1\n[a]", line: 2, contains: "cannot define table [a]: the key is already an integer (line 1)")
        parseError("a = 1\na.b = 2", line: 2, contains: "cannot use 'a' as a table: it is already an integer (line 1)")
        parseError("a = [1]\n[[a]]", line: 2, contains: "cannot define [[a]]: the key is already a static array (line 1)")
        parseError("[[a]]\n[a]", line: 2, contains: "already an array of tables")
        parseError("[a]\n[[a]]", line: 2, contains: "cannot define [[a]]: the key is already a table")
        parseError("[[a]]\n[b]\n[a.x]\n[a.x]", line: 4, contains: "table [a.x] is already defined on line 3")
    }

    func testInvalidEscapes() {
        let e = parseError(#"s = "bad \q escape""#, line: 1, contains: #"invalid escape sequence '\q'"#)
        XCTAssertEqual(e?.column, 10)
        XCTAssertEqual(e?.key, "s")
        parseError(#"s = "\u12""#, line: 1, contains: #"\u needs exactly 4 hex digits"#)
        parseError(#"s = "\UFFFFFFFF""#, line: 1, contains: "is not a Unicode scalar value")
        parseError(#"s = "\uD800""#, line: 1, contains: "is not a Unicode scalar value")
        parseError("\n\ns = \"\"\"\nok\n\\x41\"\"\"", line: 5, contains: #"invalid escape sequence '\x'"#)
        parseError(#"s = """a\ b""""#, line: 1, contains: #"invalid escape sequence '\ '"#)
    }

    func testUnterminatedStrings() {
        let e = parseError("a = 1\nb = \"open\nc = 2", line: 2, contains: "unterminated string (opened at line 2, column 5)")
        XCTAssertEqual(e?.column, 5)
        parseError("a = 'open", line: 1, contains: "unterminated string")
        parseError("x = 1\na = \"\"\"never\nclosed\n", line: 2, contains: "unterminated multi-line string")
        parseError("a = '''never\nclosed", line: 1, contains: "unterminated multi-line string")
        parseError("a = \"ends with backslash\\\n\"", line: 1, contains: "line-ending backslash only works in multi-line")
        parseError("a = '''x'''''''", line: 1, contains: "too many quotes")
    }

    func testBadNumbers() {
        let cases: [(String, String)] = [
            ("1__0", "underscores must be between digits"), ("_1", "invalid value '_1'"), ("1_", "underscores"),
            ("012", "leading zeros are not allowed"), ("-01.5", "leading zeros"),
            ("9223372036854775808", "integer out of range"), ("0x8000000000000000", "out of range"),
            ("+0x10", "a sign is not allowed on hex"), ("0xG1", "unexpected 'G'"), ("0o8", "unexpected '8'"),
            ("0b102", "unexpected '2'"), ("1.", "a decimal point must be followed by digits"),
            ("1e", "an exponent must have digits"), ("1e+", "exponent"), ("1.5.2", "invalid number"),
            ("+", "expected digits after the sign"), ("-infinity", "invalid number"),
        ]
        for (text, fragment) in cases {
            let e = parseError("\nn = \(text)", line: 2, contains: fragment)
            XCTAssertEqual(e?.column, 5, text)
            XCTAssertEqual(e?.key, "n", text)
        }
    }

    func testBadValues() {
        parseError("a = hello", line: 1, contains: "invalid value 'hello' (strings must be quoted")
        parseError("a = True", line: 1, contains: "invalid value 'True'")
        parseError("a = 1979-13-01", line: 1, contains: "invalid date-time '1979-13-01'")
        parseError("a = 1979-02-29", line: 1, contains: "invalid date-time")
        parseError("a = 07:32", line: 1, contains: "invalid date-time '07:32'")
        parseError("a = 1979-05-27T07:32:00+25:00", line: 1, contains: "invalid date-time")
        parseError("a =\nb = 1", line: 1, contains: "key 'a': expected a value, found end of line")
        parseError("a = # nothing", line: 1, contains: "expected a value, found '#'")
        parseError("a = ", line: 1, contains: "expected a value, found end of input")
    }

    func testGarbageAfterValue() {
        let e = parseError("a = 1\nb = \"x\" y", line: 2, contains: "unexpected 'y'; expected a newline or comment after the value")
        XCTAssertEqual(e?.column, 9)
        parseError("a = 1 2", line: 1, contains: "unexpected '2'")
        parseError("a = [1] ]", line: 1, contains: "unexpected ']'")
        parseError("[t] x = 1", line: 1, contains: "after the table header")
        parseError("a = 1\r b = 2", line: 1, contains: "control character U+000D")
    }

    func testMissingEquals() {
        let e = parseError("ok = 1\nname \"x\"", line: 2, contains: "key 'name': expected '=' after the key, found '\"'")
        XCTAssertEqual(e?.column, 6)
        parseError("[t]\nname", line: 2, contains: "key 't.name': expected '=' after the key, found end of input")
        parseError("a.b c = 1", line: 1, contains: "expected '='")
        parseError("= 1", line: 1, contains: "expected a key, found '='")
        parseError("é = 1", line: 1, contains: "quote other keys")
    }

    func testArrayAndInlineTableSyntax() {
        parseError("a = [1 2]", line: 1, contains: "expected ',' or ']' after an array element, found '2'")
        parseError("a = [1,\n2,\n", line: 1, contains: "unterminated array (opened at line 1, column 5)")
        parseError("a = [,]", line: 1, contains: "expected a value, found ','")
        parseError("a = { x = 1, }", line: 1, contains: "trailing comma is not allowed")
        parseError("a = { x = 1\n}", line: 1, contains: "newlines are not allowed inside an inline table")
        parseError("a = { x = 1 y = 2 }", line: 1, contains: "expected ',' or '}'")
        parseError("a = { x = 1", line: 1, contains: "unterminated inline table")
    }

    func testHeaderSyntax() {
        parseError("[a", line: 1, contains: "expected ']' to close the table header")
        parseError("[[a]", line: 1, contains: "expected ']]' to close the table header")
        parseError("[]", line: 1, contains: "expected a key, found ']'")
        parseError("[a.]", line: 1, contains: "expected a key after '.'")
        parseError("[\"\"\"a\"\"\"]", line: 1, contains: "multi-line strings cannot be used as keys")
    }

    func testControlCharacters() {
        parseError("# bell \u{07}", line: 1, contains: "control character U+0007 is not allowed in a comment")
        parseError("a = \"\u{7F}\"", line: 1, contains: "control character U+007F is not allowed in a string")
        parseError("a = 'x\u{00}'", line: 1, contains: "U+0000")
    }

    func testNestingLimit() {
        parseError("a = " + String(repeating: "[", count: 10_000), line: 1, contains: "nests too deeply")
        parseError("a = " + String(repeating: "{b = ", count: 10_000), line: 1, contains: "nests too deeply")
        parseError("[" + Array(repeating: "a", count: 10_000).joined(separator: ".") + "]", line: 1, contains: "nests too deeply")
    }

    func testDescriptionFormats() {
        XCTAssertEqual(TOMLError(file: "expt.toml", line: 12, key: "resources.mem",
                                 message: "expected a string, found an integer").description,
                       "expt.toml:12: key 'resources.mem': expected a string, found an integer")
        XCTAssertEqual(TOMLError(file: "f.toml", line: 3, column: 7, message: "m").description, "f.toml:3:7: m")
        XCTAssertEqual(TOMLError(line: 3, column: 7, message: "m").description, "line 3, column 7: m")
        XCTAssertEqual(TOMLError(line: 3, key: "k", message: "m").description, "line 3: key 'k': m")
        XCTAssertEqual(TOMLError(file: "f.toml", line: 0, message: "m").description, "f.toml: m")
        do {
            _ = try TOML.parse("a = 1\na = 2")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual("\(error)", "line 2: key 'a': duplicate key (first defined on line 1)")
        }
    }
}
