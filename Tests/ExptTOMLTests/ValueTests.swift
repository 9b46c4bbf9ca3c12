import XCTest
@testable import ExptTOML

/// One test per TOML value form, checking the decoded value rather than just "parses".
final class ValueTests: XCTestCase {
    func testBasicStringEscapes() {
        XCTAssertEqual(value(#""a\tb\nc \"q\" \\ \b\f\r""#), .string("a\tb\nc \"q\" \\ \u{08}\u{0C}\r"))
        XCTAssertEqual(value(#""\u00e9 \U0001F600""#), .string("é 😀"))
        XCTAssertEqual(value(#""""#), .string(""))
        XCTAssertEqual(value("\"tab\tinside\""), .string("tab\tinside"))
        XCTAssertEqual(value(##""# not a comment""##), .string("# not a comment"))
    }

    func testLiteralStrings() {
        XCTAssertEqual(value(#"'C:\Users\nobody'"#), .string(#"C:\Users\nobody"#))
        XCTAssertEqual(value("''"), .string(""))
    }

    func testMultilineBasicString() {
        let doc = parse("s = \"\"\"\nline one\nline \"two\"\n\"\"\"\nafter = 1\n")
        XCTAssertEqual(doc["s"], .string("line one\nline \"two\"\n"))
        XCTAssertEqual(doc.line(of: "after"), 5)
    }

    func testMultilineLineEndingBackslash() {
        let doc = parse("s = \"\"\"\\\n    The quick \\\n\n    brown fox.\\\n    \"\"\"\n")
        XCTAssertEqual(doc["s"], .string("The quick brown fox."))
        XCTAssertEqual(parse("s = \"\"\"a\\   \n  b\"\"\"")["s"], .string("ab"))
    }

    func testMultilineQuotesBeforeDelimiter() {
        XCTAssertEqual(value(#"""""two quotes"""""#), .string(#""two quotes""#))
        XCTAssertEqual(value(#"'''''x'''''"#), .string("''x''"))
        XCTAssertEqual(value(#""""a""b""""#), .string(#"a""b"#))
        XCTAssertEqual(value(#""""a""b"""""#), .string(#"a""b""#))
    }

    func testMultilineLiteralString() {
        let doc = parse("re = '''\nI [dw]on't need \\d{2} apples\n'''\n")
        XCTAssertEqual(doc["re"], .string("I [dw]on't need \\d{2} apples\n"))
    }

    func testCRLFNewlinesAreNormalisedInMultilineStrings() {
        let doc = parse("s = \"\"\"\r\na\r\nb\"\"\"\r\nn = 1\r\n")
        XCTAssertEqual(doc["s"], .string("a\nb"))
        XCTAssertEqual(doc.line(of: "n"), 4)
    }

    func testIntegers() {
        XCTAssertEqual(value("42"), .integer(42))
        XCTAssertEqual(value("+17"), .integer(17))
        XCTAssertEqual(value("-5"), .integer(-5))
        XCTAssertEqual(value("0"), .integer(0))
        XCTAssertEqual(value("-0"), .integer(0))
        XCTAssertEqual(value("1_000_000"), .integer(1_000_000))
        XCTAssertEqual(value("0xDEAD_beef"), .integer(0xDEADBEEF))
        XCTAssertEqual(value("0o755"), .integer(0o755))
        XCTAssertEqual(value("0b1101_0101"), .integer(0b11010101))
        XCTAssertEqual(value("9223372036854775807"), .integer(Int64.max))
        XCTAssertEqual(value("-9223372036854775808"), .integer(Int64.min))
        XCTAssertEqual(value("0x7FFFFFFFFFFFFFFF"), .integer(Int64.max))
    }

    func testFloats() {
        XCTAssertEqual(value("3.1415"), .float(3.1415))
        XCTAssertEqual(value("-0.01"), .float(-0.01))
        XCTAssertEqual(value("+1.0"), .float(1.0))
        XCTAssertEqual(value("5e+22"), .float(5e22))
        XCTAssertEqual(value("1e06"), .float(1e6))
        XCTAssertEqual(value("-2E-2"), .float(-0.02))
        XCTAssertEqual(value("6.626e-34"), .float(6.626e-34))
        XCTAssertEqual(value("224_617.445_991"), .float(224617.445991))
        XCTAssertEqual(value("inf"), .float(.infinity))
        XCTAssertEqual(value("+inf"), .float(.infinity))
        XCTAssertEqual(value("-inf"), .float(-.infinity))
        for text in ["nan", "+nan", "-nan"] {
            guard case .float(let d)? = value(text) else { return XCTFail(text) }
            XCTAssertTrue(d.isNaN, text)
        }
    }

    func testBooleans() {
        XCTAssertEqual(value("true"), .bool(true))
        XCTAssertEqual(value("false"), .bool(false))
    }

    func testDatetimesKeepSourceText() {
        for text in ["1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.999999+01:30",
                     "1979-05-27 07:32:00Z", "1979-05-27T07:32:00", "1979-05-27t07:32:00.5",
                     "1979-05-27", "07:32:00", "00:32:00.999999", "2024-02-29", "23:59:60"] {
            XCTAssertEqual(value(text), .datetime(text), text)
        }
        XCTAssertEqual(parse("d = 1979-05-27 # birthday\n")["d"], .datetime("1979-05-27"))
    }

    func testArrays() {
        XCTAssertEqual(value("[]"), .array([]))
        XCTAssertEqual(value("[1, 2, 3]"), .array([.integer(1), .integer(2), .integer(3)]))
        XCTAssertEqual(value("[ \"a\", 'b', ]"), .array([.string("a"), .string("b")]))
        XCTAssertEqual(value("[[1, 2], [\"x\"], []]"),
                       .array([.array([.integer(1), .integer(2)]), .array([.string("x")]), .array([])]))
        XCTAssertEqual(value("[1, 'mixed', 2.5, true, 1979-05-27]"),
                       .array([.integer(1), .string("mixed"), .float(2.5), .bool(true), .datetime("1979-05-27")]))
    }

    func testMultilineArrayWithComments() {
        let doc = parse("""
        a = [  # opening comment
          1,   # one
          # a whole-line comment
          2
          ,
        ]
        b = "after"
        """)
        XCTAssertEqual(doc["a"], .array([.integer(1), .integer(2)]))
        XCTAssertEqual(doc.line(of: "b"), 7)
    }

    func testInlineTables() {
        let doc = parse(#"point = { x = 1, y = -2, label.text = "origin", nested = { deep = [1] } }"#)
        guard case .table(let point)? = doc["point"] else { return XCTFail("not a table") }
        XCTAssertEqual(point.keys, ["x", "y", "label", "nested"])
        XCTAssertEqual(point["x"], .integer(1))
        XCTAssertEqual(point.path, ["point"])
        guard case .table(let label)? = point["label"] else { return XCTFail("no label") }
        XCTAssertEqual(label["text"], .string("origin"))
        XCTAssertEqual(label.path, ["point", "label"])
        XCTAssertEqual(value("{}"), .table(TOMLTable()))
    }

    func testTypeNames() {
        let names = ["\"s\"", "1", "1.5", "true", "1979-05-27", "[]", "{}"].compactMap { value($0)?.typeName }
        XCTAssertEqual(names, ["string", "integer", "float", "boolean", "datetime", "array", "table"])
    }

    func testKeysOfEveryForm() {
        let doc = parse("""
        bare_key-1 = 1
        1234 = 2
        "quoted key" = 3
        'literal "key"' = 4
        "" = 5
        site . "google.com" . x = 6
        "\\u00e9" = 7
        """)
        XCTAssertEqual(doc.keys, ["bare_key-1", "1234", "quoted key", "literal \"key\"", "", "site", "é"])
        guard case .table(let site)? = doc["site"], case .table(let google)? = site["google.com"] else {
            return XCTFail("dotted keys did not nest")
        }
        XCTAssertEqual(google["x"], .integer(6))
        XCTAssertEqual(google.dottedKey("x"), #"site."google.com".x"#)
    }

    func testEqualityIgnoresPositions() {
        var built = TOMLTable()
        built.set("a", .integer(1))
        built.set("b", .array([.string("x")]))
        XCTAssertEqual(parse("\n\nb = ['x']\na = 1"), built)
    }
}
