import Foundation
import GitKit

/// A throwaway repository built in code: `main` with a configured identity and one commit.
/// Removed when the value is deinitialised.
public final class TempRepo {
    public let root: URL
    public let path: String
    public let repo: Repository

    /// - Parameter name: the directory name (unicode allowed), created under a fresh temp dir.
    /// - Parameter under: where that temp dir goes (default: the system's; a small tmpfs for
    ///   disk-full tests).
    public init(name: String = "repo", files: [String: String] = ["README.md": "# test\n"], under: URL? = nil) throws {
        root = (under ?? FileManager.default.temporaryDirectory).appendingPathComponent("expt-test-\(UUID().uuidString.prefix(8))")
        let dir = root.appendingPathComponent(name)
        path = dir.path
        repo = try Repository.create(at: path)
        try repo.setConfigString("user.name", "Test User")
        try repo.setConfigString("user.email", "test@example.com")
        _ = try repo.ensureExcluded(".worktrees/")
        for (file, text) in files.sorted(by: { $0.key < $1.key }) { try write(file, text) }
        _ = try repo.commitAll(message: "initial commit\n")
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes a file relative to the repository root (or an absolute path).
    public func write(_ relative: String, _ text: String, in dir: String? = nil) throws {
        let base = URL(fileURLWithPath: dir ?? path)
        let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : base.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Runs the git CLI in `dir` (default: the repo) and returns stdout; throws on non-zero exit.
    @discardableResult
    public func git(_ args: String..., in dir: String? = nil) throws -> String {
        try Git.run(args, in: dir ?? path)
    }

    /// A fresh handle (libgit2 caches nothing across handles, like a new expt invocation).
    public func reopen(at dir: String? = nil) throws -> Repository { try Repository.open(at: dir ?? path) }
}

/// The git CLI, for cross-checking what libgit2 did. Isolated from the user's global config.
public enum Git {
    public struct Failure: Error, CustomStringConvertible {
        public var args: [String]; public var status: Int32; public var stderr: String
        public var description: String { "git \(args.joined(separator: " ")) exited \(status): \(stderr)" }
    }

    @discardableResult
    public static func run(_ args: [String], in dir: String) throws -> String {
        let r = try runAllowingFailure(args, in: dir)
        guard r.status == 0 else { throw Failure(args: args, status: r.status, stderr: r.stderr) }
        return r.stdout
    }

    public static func runAllowingFailure(_ args: [String], in dir: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", dir] + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["HOME"] = FileManager.default.temporaryDirectory.path
        env["GIT_AUTHOR_NAME"] = "Test User"; env["GIT_AUTHOR_EMAIL"] = "test@example.com"
        env["GIT_COMMITTER_NAME"] = "Test User"; env["GIT_COMMITTER_EMAIL"] = "test@example.com"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
