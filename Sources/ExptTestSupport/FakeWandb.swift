import Foundation
#if canImport(XCTest)
import XCTest
#endif

/// Sets up the strict W&B fakes for one test (Tests/EndToEndTests/Fixtures): the fake `wandb`
/// Python module on PYTHONPATH (what expt's helper imports: `wandb.Api()`), the fake `wandb` CLI
/// first on PATH (`wandb sweep --cancel|--stop`), and their shared state directory. Both log
/// every call to `calls.jsonl` and fail on any call they do not answer, so assert
/// `unexpectedCalls().isEmpty` at the end of every test that uses them.
public final class FakeWandb {
    public let root: String
    public let stateDir: String
    public let binDir: String
    /// The scenario (`scenario.json`, see the fake module's header); `write()` saves it.
    public var scenario: [String: Any]

    public init(runs: [String: [String: Any]] = [:], sweeps: [String: String] = [:]) throws {
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("fake-wandb-\(UUID().uuidString.prefix(8))").path
        stateDir = root + "/state"
        binDir = root + "/bin"
        try fm.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: binDir + "/wandb", withDestinationPath: try Self.fixture("fake-wandb"))
        _ = fm.createFile(atPath: stateDir + "/calls.jsonl", contents: nil)
        scenario = ["version": "0.31.0", "logged_in": true, "runs": runs,
                    "sweeps": sweeps.mapValues { ["state": $0] }]
        try write()
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// PATH with the fake CLI first, PYTHONPATH with the fake module, and the state directory.
    public var environment: [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return ["PATH": binDir + ":" + path, "PYTHONPATH": (try? Self.fixture("fake-wandb-module")) ?? "",
                "EXPT_FAKE_WANDB_STATE": stateDir]
    }

    public func write() throws {
        let data = try JSONSerialization.data(withJSONObject: scenario, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: stateDir + "/scenario.json"))
    }

    /// The scenario as the fakes left it (they persist update_state, tags and sweep states).
    public func current() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: stateDir + "/scenario.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// A run's fields as the fakes left them.
    public func run(_ path: String) throws -> [String: Any]? {
        (try current()["runs"] as? [String: Any])?[path] as? [String: Any]
    }

    /// Every call logged, as JSON objects.
    public func calls() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: stateDir + "/calls.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    public func unexpectedCalls() -> [[String: Any]] { calls().filter { $0["unexpected"] as? Bool == true } }

    /// The argv of each call of the fake CLI.
    public func cliCalls() -> [[String]] {
        calls().filter { $0["tool"] as? String == "wandb" }.compactMap { $0["argv"] as? [String] }
    }

    public static func fixture(_ name: String) throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/EndToEndTests/Fixtures/" + name).standardized.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "the W&B fake is not at \(path)")
        }
        return path
    }

    /// The Python that has the real wandb (`scripts/install-deps.sh` installs a pinned one),
    /// nil when it is not installed.
    public static var realWandbPython: String? {
        let candidates = [ProcessInfo.processInfo.environment["EXPT_WANDB_PYTHON"],
                          NSHomeDirectory() + "/.cache/expt/wandb-0.31.0/bin/python"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `realWandbPython`, or a skip (a failure under CI, where scripts/install-deps.sh installs it).
    public static func requireRealWandbPython() throws -> String {
        if let p = realWandbPython { return p }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            throw Failure(description: "the pinned wandb is not installed (scripts/install-deps.sh installs it)")
        }
        #if canImport(XCTest)
        throw XCTSkip("the pinned wandb is not installed; scripts/install-deps.sh installs it")
        #else
        throw Failure(description: "the pinned wandb is not installed")
        #endif
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}
