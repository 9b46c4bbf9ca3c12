import Foundation

/// Sets up the strict fake `gh` (Tests/EndToEndTests/Fixtures/fake-gh) for one test: a temp
/// directory with its state, its call log and a `bin/gh` link to the script. Put `environment`
/// into the runs (e.g. `ExptBinary.environment`), then read back what gh was asked to do.
///
/// The fake exits 99 for any call expt's GitHubClient should never make, so assert
/// `unexpectedCalls().isEmpty` at the end of every test that uses it.
public final class FakeGH {
    /// How the fake answers (see the script's header).
    public enum Mode: String, Sendable {
        case ok, offline, noauth
        /// pr create / pr comment take effect, then fail like offline: the outcome looks unknown.
        case ambiguous
    }

    /// One recorded call.
    public struct Call: Equatable, Sendable {
        public var argv: [String]
        public var stdin: String
        public var exit: Int
        public var unexpected: Bool
    }

    /// One fake pull request, as stored in `state/prs.json`.
    public struct PR: Codable, Equatable, Sendable {
        public var repo: String
        public var number: Int
        public var url: String
        public var title: String
        public var body: String
        public var headRefName: String
        public var baseRefName: String
        public var isDraft: Bool
        public var state: String
        public var comments: [String]
    }

    private struct StateFile: Codable { var next: Int; var prs: [PR] }

    public let root: String
    public let stateDir: String
    public let logPath: String
    public let binDir: String
    public let script: String
    /// What `gh auth token` prints.
    public let token: String
    private let initialMode: Mode

    public init(mode: Mode = .ok, token: String = "gho_" + String(repeating: "x", count: 36)) throws {
        script = try Self.locateScript()
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("fake-gh-\(UUID().uuidString.prefix(8))").path
        stateDir = root + "/state"
        binDir = root + "/bin"
        logPath = root + "/calls.jsonl"
        self.token = token
        initialMode = mode
        try fm.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        // The script is called fake-gh in the repository; PATH lookup needs the name `gh`.
        try fm.createSymbolicLink(atPath: binDir + "/gh", withDestinationPath: script)
        _ = fm.createFile(atPath: logPath, contents: nil)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// PATH with the fake first, plus the FAKE_GH_* settings.
    public var environment: [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return ["PATH": binDir + ":" + path, "FAKE_GH_LOG": logPath, "FAKE_GH_STATE": stateDir,
                "FAKE_GH_MODE": initialMode.rawValue, "FAKE_GH_TOKEN": token]
    }

    /// Switches the mode for later calls (written to the state directory, so it also applies to
    /// an `expt` already configured with `environment`).
    public func setMode(_ mode: Mode) throws {
        try mode.rawValue.write(toFile: stateDir + "/mode", atomically: true, encoding: .utf8)
    }

    /// Seeds an open PR and returns its number.
    @discardableResult
    public func addPullRequest(repo: String, branch: String, base: String = "main", title: String = "seeded",
                               draft: Bool = false, comments: [String] = []) throws -> Int {
        var state = readState()
        let number = state.next
        let url = (repo.split(separator: "/").count == 3 ? "https://" : "https://github.com/") + "\(repo)/pull/\(number)"
        state.prs.append(PR(repo: repo, number: number, url: url, title: title, body: "", headRefName: branch,
                            baseRefName: base, isDraft: draft, state: "OPEN", comments: comments))
        state.next += 1
        let data = try JSONEncoder().encode(state)
        try data.write(to: URL(fileURLWithPath: stateDir + "/prs.json"))
        return number
    }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Call(argv: obj["argv"] as? [String] ?? [], stdin: obj["stdin"] as? String ?? "",
                        exit: obj["exit"] as? Int ?? -1, unexpected: obj["unexpected"] as? Bool ?? false)
        }
    }

    /// Calls the fake refused (exit 99): each one is a bug in the code under test.
    public func unexpectedCalls() -> [Call] { calls().filter(\.unexpected) }

    /// All fake PRs.
    public func pullRequests() -> [PR] { readState().prs }

    /// The comment bodies of PR `pr` (in `repo` when given), oldest first.
    public func comments(pr: Int, repo: String? = nil) -> [String] {
        readState().prs.first { $0.number == pr && (repo == nil || $0.repo == repo) }?.comments ?? []
    }

    private func readState() -> StateFile {
        guard let data = FileManager.default.contents(atPath: stateDir + "/prs.json"),
              let state = try? JSONDecoder().decode(StateFile.self, from: data) else { return StateFile(next: 1, prs: []) }
        return state
    }

    /// The script in the source tree (or `EXPT_FAKE_GH`).
    public static func locateScript() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPT_FAKE_GH"] { return p }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/EndToEndTests/Fixtures/fake-gh").standardized.path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            struct Missing: Error, CustomStringConvertible { var description: String }
            throw Missing(description: "the fake gh is not at \(path) (or not executable)")
        }
        return path
    }
}
