import XCTest
import ExptCore
import ExptModel
import ExptTestSupport
@testable import ExptGitHub

/// The client against what gh 2.23 really prints: the captures in shared/fixtures/gh/local-2.23.0
/// and the gh installed on this machine (offline, not logged in).
final class GhCaptureTests: XCTestCase {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/fixtures/gh/local-2.23.0").standardized

    /// (stdout, stderr, exit) of capture `name`, or a skip when the fixtures are not here.
    func capture(_ name: String) throws -> (stdout: String, stderr: String, status: Int32) {
        let base = Self.captures.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: base + ".exit") else {
            throw XCTSkip("gh captures not found at \(Self.captures.path) (../shared/fixtures relative to the package)")
        }
        func read(_ ext: String) -> String { (try? String(contentsOfFile: base + ext, encoding: .utf8)) ?? "" }
        let status = Int32(read(".exit").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        return (read(".stdout"), read(".stderr"), status)
    }

    /// The client's error for a call answered with capture `name`.
    func clientError(answering name: String) throws -> GitHubError {
        let c = try capture(name)
        let fake = FakeProcessRunner()
        fake.expect(["gh", "pr", "comment", "1", "-R", "o/r", "--body-file", "-"], stdout: c.stdout, stderr: c.stderr, status: c.status)
        do {
            try GitHubClient(runner: fake, repo: GitHubRepo(owner: "o", name: "r")).comment(pr: 1, body: "b")
        } catch let e as GitHubError { return e }
        XCTFail("capture \(name) did not fail the call")
        throw XCTSkip("no error")
    }

    func testNoAuthCapturesAreRetryableNotAuthenticated() throws {
        for name in ["noauth-pr-comment", "noauth-pr-view", "noauth-pr-view-gitconfig-nosystem"] {
            let e = try clientError(answering: name)
            XCTAssertEqual(e.reason, .notAuthenticated, name)
            XCTAssertTrue(e.isRetryable, name)
            XCTAssertEqual(e.kind, .external)
            XCTAssertEqual(e.hint, "run `gh auth login`, or set GH_TOKEN")
        }
    }

    func testOfflineCapturesReadAsUnreachable() throws {
        for name in ["token-offline-pr-comment", "token-offline-pr-list", "token-offline-pr-view",
                     "token-ghrepo-offline-pr-comment", "token-ghrepo-offline-pr-list", "token-offline-pr-view-current-branch",
                     "token-offline-auth-status"] {
            let e = try clientError(answering: name)
            XCTAssertEqual(e.reason, .unreachable, name)
            XCTAssertTrue(e.isRetryable, name)
            XCTAssertTrue(e.message.hasPrefix("gh could not reach GitHub or is not authenticated"), e.message)
        }
    }

    func testUsageErrorsArePermanent() throws {
        for name in ["token-offline-pr-view-badfield", "token-offline-pr-create-notitle", "token-offline-pr-view-nojsonarg"] {
            let e = try clientError(answering: name)
            XCTAssertEqual(e.reason, .failed, name)
            XCTAssertFalse(e.isRetryable, name)
            XCTAssertTrue(e.message.contains("gh pr comment 1 -R o/r --body-file -"), e.message)
        }
    }

    func testFlagsExistInTheCapturedHelp() throws {
        for (name, flags) in Self.flagsUsed {
            let help = try capture("help-pr-\(name)").stdout
            for flag in flags { XCTAssertTrue(help.contains(flag), "gh pr \(name) --help (capture) lacks \(flag)") }
        }
    }

    // MARK: the real gh

    /// Every flag GitHubClient passes, per subcommand.
    static let flagsUsed: [(String, [String])] = [
        ("comment", ["--body-file", "--repo"]),
        ("create", ["--head", "--base", "--title", "--body-file", "--draft", "--repo"]),
        ("list", ["--head", "--state", "--json", "--limit", "--repo"]),
        ("view", ["--json", "--repo"]),
    ]

    func realGh() throws -> String {
        guard let gh = SystemProcessRunner.findExecutable("gh", path: ProcessInfo.processInfo.environment["PATH"]) else {
            throw XCTSkip("gh is not on PATH")
        }
        return gh
    }

    func testRealGhHelpHasEveryFlagTheClientUses() throws {
        let gh = try realGh()
        for (name, flags) in Self.flagsUsed {
            let result = try SystemProcessRunner().run([gh, "pr", name, "--help"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let help = result.stdout + result.stderr
            for flag in flags { XCTAssertTrue(help.contains(flag), "gh pr \(name) --help lacks \(flag)") }
            // -R is how the repository is named; the short form must be the one we use.
            XCTAssertTrue(help.contains("-R, --repo"), "gh pr \(name) has no -R")
        }
        let token = try SystemProcessRunner().run([gh, "auth", "token", "--help"])
        XCTAssertEqual(token.status, 0, "gh auth token does not exist in this gh")
        XCTAssertTrue((token.stdout + token.stderr).contains("--hostname"))
    }

    func testRealGhWithoutCredentialsIsRetryableNotAuthenticated() throws {
        let gh = try realGh()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("gh-noauth-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        // SystemProcessRunner merges over the inherited environment, so the token variables are
        // removed by a runner that starts gh through `env -u`.
        let runner = PrefixedEnvRunner(unset: ["GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_HOST", "GH_REPO"], gh: gh)
        let client = GitHubClient(runner: runner, repo: GitHubRepo(owner: "o", name: "r"),
                                  environment: ["HOME": home, "XDG_CONFIG_HOME": home + "/.config", "GH_CONFIG_DIR": home + "/gh"])
        do {
            try client.comment(pr: 1, body: "hello")
            XCTFail("gh without credentials succeeded")
        } catch let e as GitHubError {
            XCTAssertEqual(e.reason, .notAuthenticated, e.description)
            XCTAssertEqual(e.status, 4)
            XCTAssertTrue(e.isRetryable)
            XCTAssertEqual(runner.lastArgv, ["gh", "pr", "comment", "1", "-R", "o/r", "--body-file", "-"])
        }
        XCTAssertNil(try client.authToken(), "gh auth token without credentials should mean no token")
    }
}

/// Runs `env -u NAME… <gh> args` so variables inherited from the test's environment are gone.
private final class PrefixedEnvRunner: ProcessRunner, @unchecked Sendable {
    let unset: [String], gh: String
    var lastArgv: [String] = []
    init(unset: [String], gh: String) { self.unset = unset; self.gh = gh }
    func run(_ argv: [String], stdin: Data?, environment: [String: String]?, cwd: String?) throws -> ProcessResult {
        lastArgv = argv
        let full = ["/usr/bin/env"] + unset.flatMap { ["-u", $0] } + [gh] + argv.dropFirst()
        return try SystemProcessRunner().run(full, stdin: stdin, environment: environment, cwd: cwd)
    }
}
