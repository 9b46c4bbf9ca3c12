import XCTest
import ExptTestSupport

/// `expt diagnose --log` on any file, `expt pr` through a strict fake gh, and the README's demo.
final class DiagnoseAndDemoEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var dir: String!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-diag-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, _ data: Data) -> String {
        let p = dir + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: data)
        return p
    }

    func testDiagnoseAnyLogOutsideARepository() throws {
        let log = write("train.log", Data("""
        epoch 1 loss 2.3\r epoch 1 loss 2.1\r epoch 1 loss 1.9
        \u{1B}[33mUserWarning: something noisy\u{1B}[0m
        Traceback (most recent call last):
          File "train.py", line 10, in <module>
            out = model(x)
        torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)

        """.utf8))
        let r = try expt.run(["diagnose", "--log", log, "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let d = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "oom_gpu")
        XCTAssertTrue(d.keys.contains("secondary"))
        let ev = try XCTUnwrap((d["evidence"] as? [[String: Any]])?.first)
        XCTAssertEqual(ev["file"] as? String, log)
        XCTAssertEqual(ev["line"] as? Int, 6)
        XCTAssertEqual((d["remedy"] as? [String: Any])?["kind"] as? String, "escalate_resources")
        let human = try expt.run(["diagnose", "--log", log, "--explain"], in: dir)
        XCTAssertTrue(human.stdout.contains("Rules fired"), human.stdout)
        let state = try expt.run(["diagnose", "--log", write("empty.log", Data()), "--state", "TIMEOUT", "--json"], in: dir)
        XCTAssertEqual((try state.json() as? [String: Any])?["category"] as? String, "timeout")
    }

    func testBadInputsGiveClearErrors() throws {
        var r = try expt.run(["diagnose", "--log", dir + "/missing.log"], in: dir)
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.stderr.contains("no such log file"), r.stderr)
        r = try expt.run(["diagnose", "--log", dir], in: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("is a directory"), r.stderr)
        let garbage = write("bin.log", Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        XCTAssertEqual(try expt.run(["diagnose", "--log", garbage], in: dir).status, 0, "binary garbage is not a crash")
        let oneLine = write("line.log", Data(repeating: UInt8(ascii: "x"), count: 10 << 20) + Data("\nKilled\n".utf8))
        XCTAssertEqual(try expt.run(["diagnose", "--log", oneLine], in: dir).status, 0)
        let rules = write("rules.toml", Data("[[rule]]\nid = \"mine\"\ncategory = \"code_error\"\npatterns = [\"(unclosed\"]\n".utf8))
        r = try expt.run(["diagnose", "--log", oneLine, "--rules", rules], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("mine") && r.stderr.contains("rules.toml"), r.stderr)
        r = try expt.run(["diagnose"], in: dir)
        XCTAssertEqual(r.status, 64)
    }

    func testPRIsOpenedWithTheDocAsBodyThenFound() throws {
        let gh = try FakeGH()
        expt.environment = gh.environment
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "exp/a"], in: t.path).status, 0)
        let bare = t.root.appendingPathComponent("o.git").path
        _ = try Git.run(["init", "-q", "--bare", bare], in: t.root.path)
        try t.git("remote", "add", "origin", "git@github.com:acme/exp.git")
        try t.git("config", "remote.origin.pushurl", bare)
        let dry = try expt.run(["pr", "exp/a", "--dry-run"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("would push"), dry.stdout)
        XCTAssertNil(try? Git.run(["rev-parse", "--verify", "-q", "exp/a"], in: bare))
        let r = try expt.run(["pr", "exp/a", "--draft", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual(out["created"] as? Bool, true)
        XCTAssertEqual(try Git.run(["rev-parse", "exp/a"], in: bare), try t.git("rev-parse", "exp/a"), "pushed first")
        let create = try XCTUnwrap(gh.calls().first { $0.argv.starts(with: ["pr", "create"]) })
        XCTAssertTrue(create.argv.contains("-R") && create.argv.contains("acme/exp") && create.argv.contains("--draft"), "\(create.argv)")
        XCTAssertEqual(create.argv[create.argv.firstIndex(of: "--base")! + 1], "main")
        XCTAssertTrue(create.stdin.contains("## Fixes"), "the doc is the body, on stdin")
        let again = try XCTUnwrap(try expt.run(["pr", "exp/a", "--json"], in: t.path).json() as? [String: Any])
        XCTAssertEqual(again["created"] as? Bool, false)
        XCTAssertEqual(again["number"] as? Int, out["number"] as? Int)
        XCTAssertEqual(gh.unexpectedCalls(), [])
    }

    /// The README's first command, with the already built binary: the whole story runs.
    func testTheDemoRunsTheWholeLifecycle() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [root.appendingPathComponent("scripts/demo.sh").path]
        var env = ProcessInfo.processInfo.environment
        env["EXPT_DEMO_BIN"] = expt.path
        env["DEMO_DIR"] = dir + "/demo"
        env["HOME"] = expt.home
        p.environment = env
        let out = dir + "/demo.log"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = p.standardOutput
        try p.run(); p.waitUntilExit()
        let log = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(p.terminationStatus, 0, log)
        for expected in ["oom [oom_host]", "oom_host — resumable", "fixed oom_host of r1", "profile highmem",
                         "resume from checkpoints/step-00", "1 succeeded, 0 failed", "training complete",
                         "Merge branch 'exp/bigger-model' into main", "next:    r2 → succeeded [fixed]", "pr_comment"] {
            XCTAssertTrue(log.contains(expected), "demo output lacks \(expected):\n\(log)")
        }
    }
}
