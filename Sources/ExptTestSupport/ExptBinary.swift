import Foundation

/// Runs the built `expt` executable, as a user or an agent would, with an isolated environment
/// (HOME, XDG, git's global config, GH_*). The binary is found next to the test bundle.
public struct ExptBinary {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// stdout parsed as JSON.
        public func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
    }

    public let path: String
    public let home: String
    /// Extra environment for every run (e.g. PATH with fake tools first).
    public var environment: [String: String] = [:]

    public init() throws {
        path = try ExptBinary.locate()
        home = FileManager.default.temporaryDirectory.appendingPathComponent("expt-home-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    /// The `expt` file in the build products directory (where the test bundle is).
    public static func locate() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPT_BINARY"] { return p }
        let dirs = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                    Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for d in dirs {
            let p = d.appendingPathComponent("expt").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        struct Missing: Error, CustomStringConvertible {
            var description: String { "the expt binary is not next to the test bundle; run `swift build` first" }
        }
        throw Missing()
    }

    /// Runs `expt args...` in `cwd`, waiting at most `timeout` seconds.
    @discardableResult
    public func run(_ args: [String], in cwd: String, stdin: String? = nil, env: [String: String] = [:],
                    timeout: TimeInterval = 60) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var e = ProcessInfo.processInfo.environment.filter { k, _ in
            !k.hasPrefix("GIT_") && !k.hasPrefix("GH_") && !k.hasPrefix("EXPT_") && k != "GITHUB_TOKEN"
        }
        e["HOME"] = home
        e["XDG_CONFIG_HOME"] = home + "/.config"
        e["GIT_CONFIG_NOSYSTEM"] = "1"
        e["NO_COLOR"] = "1"
        for (k, v) in environment { e[k] = v }
        for (k, v) in env { e[k] = v }
        p.environment = e
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("expt-out-\(UUID().uuidString)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("expt-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        // Files, not pipes: a detached grandchild (the local backend's supervisor) must not keep
        // a pipe open and block the read.
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        if let stdin {
            let pipe = Pipe()
            p.standardInput = pipe
            try p.run()
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            p.standardInput = FileHandle.nullDevice
            try p.run()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// Starts `expt args...` without waiting (for concurrency and kill tests).
    public func start(_ args: [String], in cwd: String, env: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var e = ProcessInfo.processInfo.environment
        e["HOME"] = home; e["GIT_CONFIG_NOSYSTEM"] = "1"; e["NO_COLOR"] = "1"
        for (k, v) in environment { e[k] = v }
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Polls `expt status <branch> --json` until the branch's latest run is in one of `states`;
    /// returns that row, or nil (with the last row in `last`) when `timeout` passes first.
    public func waitForRun(_ branch: String, in states: Set<String>, cwd: String, timeout: TimeInterval,
                           last: inout [String: Any]) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let rows = (try run(["status", branch, "--json"], in: cwd).json() as? [[String: Any]]) ?? []
            last = rows.last ?? [:]
            if let s = last["state"] as? String, states.contains(s) { return last }
            Thread.sleep(forTimeInterval: 0.3)
        }
        return nil
    }
}
