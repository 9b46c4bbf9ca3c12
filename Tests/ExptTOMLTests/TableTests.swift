import XCTest
@testable import ExptTOML

/// Table structure, source order and line bookkeeping.
final class TableTests: XCTestCase {
    func testRealisticConfig() throws {
        let doc = try TOML.parse("""
        command = "python train.py --epochs 3"
        resume_command = "python train.py --resume {checkpoint}"
        checkpoint_glob = "checkpoints/*.pt"
        backend = "local"
        [env]
        WANDB_MODE = "offline"
        [resources]
        mem = "4G"
        cpus = 2
        time = "01:00:00"
        [profiles.highmem]
        mem = "8G"
        [retry]
        max_failures = 3
        """, file: "expt.toml")
        XCTAssertEqual(doc.keys, ["command", "resume_command", "checkpoint_glob", "backend",
                                  "env", "resources", "profiles", "retry"])
        XCTAssertEqual(try doc.string("command"), "python train.py --epochs 3")
        XCTAssertEqual(try doc.string("resume_command"), "python train.py --resume {checkpoint}")
        XCTAssertEqual(try doc.string("checkpoint_glob"), "checkpoints/*.pt")
        XCTAssertEqual(try doc.string("backend"), "local")
        XCTAssertEqual(try doc.stringTable("env"), ["WANDB_MODE": "offline"])

        let resources = try XCTUnwrap(try doc.table("resources"))
        XCTAssertEqual(resources.keys, ["mem", "cpus", "time"])
        XCTAssertEqual(try resources.string("mem"), "4G")
        XCTAssertEqual(try resources.int("cpus"), 2)
        XCTAssertEqual(try resources.string("time"), "01:00:00")
        XCTAssertEqual(resources.line, 7)
        XCTAssertEqual(resources.line(of: "cpus"), 9)
        XCTAssertEqual(resources.path, ["resources"])
        XCTAssertEqual(resources.file, "expt.toml")

        let highmem = try XCTUnwrap(try doc.table("profiles")?.table("highmem"))
        XCTAssertEqual(try highmem.string("mem"), "8G")
        XCTAssertEqual(highmem.path, ["profiles", "highmem"])
        XCTAssertEqual(highmem.line, 11)
        XCTAssertEqual(highmem.line(of: "mem"), 12)
        XCTAssertEqual(try doc.table("retry")?.int("max_failures"), 3)
        XCTAssertEqual(doc.line(of: "backend"), 4)
        XCTAssertEqual(doc.line, 0)
        XCTAssertEqual(doc.path, [])
        try resources.checkKeys(allowed: ["mem", "cpus", "time", "gpus"])
    }

    func testNestedTablesAndImplicitParents() {
        let doc = parse("""
        [a.b.c]
        x = 1
        [a]
        y = 2
        [a.b.d]
        z = 3
        """)
        guard case .table(let a)? = doc["a"], case .table(let b)? = a["b"] else { return XCTFail("no a.b") }
        XCTAssertEqual(a.keys, ["b", "y"])
        XCTAssertEqual(b.keys, ["c", "d"])
        XCTAssertEqual(a.line, 3, "an implicit table takes the line of its own header once defined")
        XCTAssertEqual(b.path, ["a", "b"])
        guard case .table(let d)? = b["d"] else { return XCTFail("no d") }
        XCTAssertEqual(d["z"], .integer(3))
        XCTAssertEqual(d.line(of: "z"), 6)
    }

    func testArrayOfTables() throws {
        let doc = parse("""
        [[fruits]]
        name = "apple"

        [fruits.physical]
        color = "red"

        [[fruits.varieties]]
        name = "red delicious"

        [[fruits]]
        name = "banana"
        inline = { n = 1 }
        """)
        let fruits = try XCTUnwrap(try doc.tableArray("fruits"))
        XCTAssertEqual(fruits.count, 2)
        XCTAssertEqual(fruits[0]["name"], .string("apple"))
        XCTAssertEqual(fruits[0].line, 1)
        XCTAssertEqual(fruits[0].line(of: "name"), 2)
        XCTAssertEqual(try fruits[0].table("physical")?.string("color"), "red")
        XCTAssertEqual(try fruits[0].table("physical")?.line(of: "color"), 5)
        XCTAssertEqual(try fruits[0].tableArray("varieties")?.first?.string("name"), "red delicious")
        XCTAssertEqual(try fruits[0].tableArray("varieties")?.first?.line(of: "name"), 8)
        XCTAssertEqual(fruits[1].line, 10)
        XCTAssertEqual(fruits[1].line(of: "name"), 11)
        XCTAssertEqual(fruits[1].path, ["fruits"])
        XCTAssertEqual(fruits[1].dottedKey("name"), "fruits.name")
        let inline = try XCTUnwrap(try fruits[1].table("inline"))
        XCTAssertEqual(inline.line(of: "n"), 12)
        XCTAssertEqual(inline.path, ["fruits", "inline"])
        XCTAssertEqual(doc["fruits"]?.typeName, "array")
    }

    func testArrayOfTablesIsArrayOfTableValues() {
        let doc = parse("[[a]]\nx = 1\n[[a]]\n")
        var first = TOMLTable()
        first.set("x", .integer(1))
        XCTAssertEqual(doc["a"], .array([.table(first), .table(TOMLTable())]))
    }

    func testLinesOfKeysInInlineTables() throws {
        let doc = parse("""
        # comment
        job = { name = "train", args = [
            "--epochs",
            "3",
        ], retries = 2 }
        """)
        let job = try XCTUnwrap(try doc.table("job"))
        XCTAssertEqual(doc.line(of: "job"), 2)
        XCTAssertEqual(job.line, 2)
        XCTAssertEqual(job.line(of: "name"), 2)
        XCTAssertEqual(job.line(of: "retries"), 5)
        XCTAssertEqual(try job.stringArray("args"), ["--epochs", "3"])
    }

    func testDottedKeysDefineTablesInSourceOrder() throws {
        let doc = parse("""
        [fruit]
        apple.color = "red"
        apple.taste.sweet = true
        banana = 1

        [fruit.apple.texture]
        smooth = true
        """)
        let apple = try XCTUnwrap(try doc.table("fruit")?.table("apple"))
        XCTAssertEqual(apple.keys, ["color", "taste", "texture"])
        XCTAssertEqual(apple.line, 2)
        XCTAssertEqual(apple.line(of: "taste"), 3)
        XCTAssertEqual(try apple.table("taste")?.bool("sweet"), true)
        XCTAssertEqual(try apple.table("texture")?.bool("smooth"), true)
        XCTAssertEqual(try doc.table("fruit")?.keys, ["apple", "banana"])
    }

    func testSuperTableAfterSubTableAndWhitespaceInHeaders() {
        let doc = parse("[ x . y . z ]\nw = 1\n[ x ]\nv = 2\n[[ arr ]]\n")
        guard case .table(let x)? = doc["x"] else { return XCTFail("no x") }
        XCTAssertEqual(x.keys, ["y", "v"])
        XCTAssertEqual(doc["arr"], .array([.table(TOMLTable())]))
    }

    func testCommentsBlankLinesAndCRLF() {
        let doc = parse("# header comment\r\n\r\n  a = 1 # trailing\r\n\t[t] # table comment\r\nb = 'x'\r\n")
        XCTAssertEqual(doc.line(of: "a"), 3)
        guard case .table(let t)? = doc["t"] else { return XCTFail("no t") }
        XCTAssertEqual(t.line, 4)
        XCTAssertEqual(t.line(of: "b"), 5)
    }

    func testEmptyDocuments() {
        XCTAssertTrue(parse("").isEmpty)
        XCTAssertTrue(parse("\n\n# only a comment").isEmpty)
        XCTAssertEqual(parse("a = 1").count, 1, "no trailing newline is needed")
    }
}
