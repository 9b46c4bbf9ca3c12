import XCTest
@testable import ExptTOML

/// Typed accessors: nil for absent keys, and errors that name file, line and dotted key.
final class AccessorTests: XCTestCase {
    private let doc = """
    name = "run"
    count = 3
    ratio = 0.5
    flag = true
    when = 1979-05-27
    tags = ["a", "b"]
    [resources]
    mem = 4
    cpus = 2.5
    [env]
    A = "1"
    B = 2
    [[jobs]]
    x = 1
    """

    private func table() throws -> TOMLTable { try TOML.parse(doc, file: "expt.toml") }

    private func assertError(_ body: @autoclosure () throws -> Any?, _ expected: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testValuesOfTheRightType() throws {
        let t = try table()
        XCTAssertEqual(try t.string("name"), "run")
        XCTAssertEqual(try t.int("count"), 3)
        XCTAssertEqual(try t.double("ratio"), 0.5)
        XCTAssertEqual(try t.double("count"), 3.0, "integers widen to doubles")
        XCTAssertEqual(try t.bool("flag"), true)
        XCTAssertEqual(try t.stringArray("tags"), ["a", "b"])
        XCTAssertEqual(try t.table("resources")?.int("mem"), 4)
        XCTAssertEqual(try t.tableArray("jobs")?.count, 1)
        XCTAssertEqual(try t.table("resources")?.stringTable("missing"), nil)
    }

    func testMissingKeysAreNil() throws {
        let t = try table()
        XCTAssertNil(try t.string("nope"))
        XCTAssertNil(try t.int("nope"))
        XCTAssertNil(try t.double("nope"))
        XCTAssertNil(try t.bool("nope"))
        XCTAssertNil(try t.stringArray("nope"))
        XCTAssertNil(try t.table("nope"))
        XCTAssertNil(try t.stringTable("nope"))
    }

    func testTypeMismatchesNameDottedKeyAndLine() throws {
        let t = try table()
        let resources = try XCTUnwrap(try t.table("resources"))
        assertError(try resources.string("mem"), "expt.toml:8: key 'resources.mem': expected a string, found an integer")
        assertError(try resources.int("cpus"), "expt.toml:9: key 'resources.cpus': expected an integer, found a float")
        assertError(try t.double("name"), "expt.toml:1: key 'name': expected a number, found a string")
        assertError(try t.bool("count"), "expt.toml:2: key 'count': expected a boolean (true or false), found an integer")
        assertError(try t.string("when"), "expt.toml:5: key 'when': expected a string, found a datetime")
        assertError(try t.table("tags"), "expt.toml:6: key 'tags': expected a table, found an array")
        assertError(try t.table("jobs"), "expt.toml:13: key 'jobs': expected a table, found an array of tables")
        assertError(try t.stringArray("name"), "expt.toml:1: key 'name': expected an array of strings, found a string")
        assertError(try t.tableArray("tags"), "expt.toml:6: key 'tags': expected an array of tables, found a string at index 0")
    }

    func testStringArrayNamesBadElement() throws {
        let t = try TOML.parse("[cmd]\nargs = [\"a\",\n  2]", file: "x.toml")
        assertError(try t.table("cmd")?.stringArray("args"),
                    "x.toml:2: key 'cmd.args': expected an array of strings, found an integer at index 1")
    }

    func testStringTableNamesTheBadEntry() throws {
        assertError(try table().stringTable("env"), "expt.toml:12: key 'env.B': expected a string, found an integer")
        let ok = try TOML.parse("[env]\nA = \"1\"\n\"WITH SPACE\" = 'x'").stringTable("env")
        XCTAssertEqual(ok, ["A": "1", "WITH SPACE": "x"])
    }

    func testErrorsInArrayOfTablesAndQuotedKeys() throws {
        let t = try TOML.parse("[[jobs]]\nx = 1\n[[jobs]]\nx = 'two'\n[\"my table\"]\n\"a b\" = 1", file: "j.toml")
        let jobs = try XCTUnwrap(try t.tableArray("jobs"))
        assertError(try jobs[1].int("x"), "j.toml:4: key 'jobs.x': expected an integer, found a string")
        assertError(try t.table("my table")?.string("a b"), #"j.toml:6: key '"my table"."a b"': expected a string, found an integer"#)
    }

    func testCustomErrorsUseTheSameFormat() throws {
        let resources = try XCTUnwrap(try table().table("resources"))
        XCTAssertEqual("\(resources.error("must be at least 8", key: "mem"))",
                       "expt.toml:8: key 'resources.mem': must be at least 8")
        XCTAssertEqual("\(resources.error("missing required key", key: "time"))",
                       "expt.toml:7: key 'resources.time': missing required key", "absent keys point at the header")
    }

    func testCheckKeysSuggestsCloseKey() throws {
        let t = try TOML.parse("[resources]\nmem = '4G'\ncpu = 2\n", file: "expt.toml")
        let resources = try XCTUnwrap(try t.table("resources"))
        assertError(try resources.checkKeys(allowed: ["mem", "cpus", "time", "gpus"]),
                    "expt.toml:3: key 'resources.cpu': unknown key; did you mean 'cpus'?")
        XCTAssertNoThrow(try resources.checkKeys(allowed: ["mem", "cpu"]))
    }

    func testCheckKeysSuggestionRules() throws {
        let t = try TOML.parse("\n\ncomand = 'x'\n")
        assertError(try t.checkKeys(allowed: ["command", "backend"]), "line 3: key 'comand': unknown key; did you mean 'command'?")
        let transposed = try TOML.parse("bakcend = 'x'")
        assertError(try transposed.checkKeys(allowed: ["command", "backend"]),
                    "line 1: key 'bakcend': unknown key; did you mean 'backend'?")
        let unrelated = try TOML.parse("zzz = 1")
        assertError(try unrelated.checkKeys(allowed: ["command", "backend"]),
                    "line 1: key 'zzz': unknown key; expected one of: backend, command")
        let short = try TOML.parse("ab = 1")
        assertError(try short.checkKeys(allowed: ["cd"]), "line 1: key 'ab': unknown key; expected one of: cd")
        let caseOnly = try TOML.parse("MEM = 1")
        assertError(try caseOnly.checkKeys(allowed: ["mem"]), "line 1: key 'MEM': unknown key; did you mean 'mem'?")
    }

    func testCheckKeysReportsFirstUnknownInSourceOrder() throws {
        let t = try TOML.parse("a = 1\nzzz = 2\nyyy = 3")
        assertError(try t.checkKeys(allowed: ["a"]), "line 2: key 'zzz': unknown key; expected one of: a")
    }

    func testEditDistance() {
        func d(_ a: String, _ b: String) -> Int {
            TOMLTable.editDistance(Array(a.unicodeScalars), Array(b.unicodeScalars), limit: 5)
        }
        XCTAssertEqual(d("kitten", "sitting"), 3)
        XCTAssertEqual(d("", "abc"), 3)
        XCTAssertEqual(d("ab", "ba"), 1)
        XCTAssertEqual(d("same", "same"), 0)
        XCTAssertEqual(TOMLTable.editDistance(Array("a".unicodeScalars), Array("abcdefgh".unicodeScalars), limit: 2), 3)
    }
}
