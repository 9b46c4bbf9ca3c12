import XCTest
import ExptCore
import ExptModel
import ExptTestSupport
@testable import ExptGitHub

/// The exact argv of every call (strict fake runner), bodies on stdin, JSON parsing, and error
/// classification of canned gh answers.
final class GitHubClientTests: XCTestCase {
    let repo = GitHubRepo(owner: "acme", name: "trainer")
    let listArgs = ["gh", "pr", "list", "-R", "acme/trainer", "--head", "exp/lr", "--state", "open",
                    "--json", "number,url,title,isDraft", "--limit", "1"]

    func client(_ fake: FakeProcessRunner, repo: GitHubRepo? = nil, env: [String: String]? = nil) -> GitHubClient {
        GitHubClient(runner: fake, repo: repo ?? self.repo, environment: env)
    }

    func error(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> GitHubError? {
        do { try body(); XCTFail("no error", file: file, line: line); return nil } catch let e as GitHubError { return e } catch {
            XCTFail("not a GitHubError: \(error)", file: file, line: line); return nil
        }
    }

    func testFindPullRequest() throws {
        let fake = FakeProcessRunner()
        fake.expect(listArgs, stdout: #"[{"isDraft":true,"number":7,"title":"exp/lr: try 3e-4","url":"https://github.com/acme/trainer/pull/7"}]"# + "\n")
        fake.expect(listArgs, stdout: "[]\n")
        let c = client(fake, env: ["GH_TOKEN": "t"])
        XCTAssertEqual(try c.findPullRequest(branch: "exp/lr"),
                       PullRequest(number: 7, url: "https://github.com/acme/trainer/pull/7", title: "exp/lr: try 3e-4", isDraft: true))
        XCTAssertNil(try c.findPullRequest(branch: "exp/lr"))
        fake.assertAllUsed()
        let env = try XCTUnwrap(fake.calls.first?.environment)
        XCTAssertEqual(env["GH_PROMPT_DISABLED"], "1")
        XCTAssertEqual(env["GH_NO_UPDATE_NOTIFIER"], "1")
        XCTAssertEqual(env["GH_TOKEN"], "t")
        XCTAssertNil(fake.calls.first?.stdin)
    }

    func testCreatePullRequestSendsTheBodyOnStdinOnly() throws {
        let fake = FakeProcessRunner()
        let secret = "hf_" + String(repeating: "Ab3", count: 12)
        fake.expect(["gh", "pr", "create", "-R", "acme/trainer", "--head", "exp/lr", "--base", "main",
                     "--title", "exp/lr: lower lr", "--body-file", "-", "--draft"],
                    stdout: "Warning: 1 uncommitted change\nhttps://github.com/acme/trainer/pull/12\n")
        let pr = try client(fake).createPullRequest(branch: "exp/lr", base: "main", title: "exp/lr: lower lr",
                                                    body: "Purpose\nHF_TOKEN=\(secret)\n", draft: true)
        XCTAssertEqual(pr, PullRequest(number: 12, url: "https://github.com/acme/trainer/pull/12", title: "exp/lr: lower lr", isDraft: true))
        let call = try XCTUnwrap(fake.calls.first)
        XCTAssertEqual(call.stdinText, "Purpose\nHF_TOKEN=hf_[REDACTED]\n")
        XCTAssertFalse(call.argv.contains { $0.contains("Purpose") })
    }

    func testCreateWithoutDraftAndAlreadyExists() throws {
        let fake = FakeProcessRunner()
        let argv = ["gh", "pr", "create", "-R", "acme/trainer", "--head", "b", "--base", "main", "--title", "t", "--body-file", "-"]
        fake.expect(argv, stdout: "https://github.com/acme/trainer/pull/3\n")
        fake.expect(argv, stderr: "a pull request for branch \"b\" into branch \"main\" already exists:\nhttps://github.com/acme/trainer/pull/3\n", status: 1)
        XCTAssertEqual(try client(fake).createPullRequest(branch: "b", base: "main", title: "t", body: "x", draft: false).number, 3)
        let e = error { _ = try client(fake).createPullRequest(branch: "b", base: "main", title: "t", body: "x", draft: false) }
        XCTAssertEqual(e?.reason, .alreadyExists)
        XCTAssertEqual(e?.url, "https://github.com/acme/trainer/pull/3")
        XCTAssertEqual(e?.isRetryable, false)
    }

    func testCommentAndCommentBodies() throws {
        let fake = FakeProcessRunner()
        fake.expect(["gh", "pr", "comment", "12", "-R", "acme/trainer", "--body-file", "-"],
                    stdout: "https://github.com/acme/trainer/pull/12#issuecomment-99\n")
        fake.expect(["gh", "pr", "view", "12", "-R", "acme/trainer", "--json", "comments"],
                    stdout: #"{"comments":[{"author":{"login":"a"},"authorAssociation":"OWNER","body":"<!-- expt:fix:f1 -->\nFixed OOM","createdAt":"2024-01-01T00:00:00Z","includesCreatedEdit":false,"isMinimized":false,"minimizedReason":"","reactionGroups":[]},{"author":{"login":"b"},"body":"lgtm"}]}"# + "\n")
        let url = try client(fake).comment(pr: 12, body: "<!-- expt:fix:f1 -->\nFixed OOM\n--token abc123")
        XCTAssertEqual(url, "https://github.com/acme/trainer/pull/12#issuecomment-99")
        XCTAssertEqual(fake.calls[0].stdinText, "<!-- expt:fix:f1 -->\nFixed OOM\n--token [REDACTED]")
        XCTAssertEqual(try client(fake).commentBodies(pr: 12), ["<!-- expt:fix:f1 -->\nFixed OOM", "lgtm"])
        fake.assertAllUsed()
    }

    func testCommentOnBranchLooksUpTheOpenPR() throws {
        let fake = FakeProcessRunner()
        fake.expect(listArgs, stdout: #"[{"isDraft":false,"number":5,"title":"t","url":"https://github.com/acme/trainer/pull/5"}]"#)
        fake.expect(["gh", "pr", "comment", "5", "-R", "acme/trainer", "--body-file", "-"], stdout: "")
        fake.expect(listArgs, stdout: "[]")
        XCTAssertNil(try client(fake).comment(branch: "exp/lr", body: "hi"))
        let e = error { try client(fake).comment(branch: "exp/lr", body: "hi") }
        XCTAssertEqual(e?.reason, .notFound)
        XCTAssertEqual(e?.isRetryable, false)
        fake.assertAllUsed()
    }

    func testEnterpriseSlugAndAuthToken() throws {
        let ghe = GitHubRepo(owner: "ml", name: "t", host: "ghe.corp.io")
        let fake = FakeProcessRunner()
        fake.expect(["gh", "auth", "token", "--hostname", "ghe.corp.io"], stdout: "gho_abc\n")
        fake.expect(["gh", "auth", "token", "--hostname", "ghe.corp.io"], stderr: "no oauth token", status: 1)
        fake.expect(["gh", "pr", "view", "1", "-R", "ghe.corp.io/ml/t", "--json", "comments"], stdout: #"{"comments":[]}"#)
        XCTAssertEqual(try client(fake, repo: ghe).authToken(), "gho_abc")
        XCTAssertNil(try client(fake, repo: ghe).authToken())
        XCTAssertEqual(try client(fake, repo: ghe).commentBodies(pr: 1), [])
        let dotcom = FakeProcessRunner()
        dotcom.expect(["gh", "auth", "token"], stderr: "To get started with GitHub CLI, please run:  gh auth login\n", status: 4)
        XCTAssertNil(try client(dotcom).authToken())
    }

    func testUnreadableOutput() {
        let fake = FakeProcessRunner()
        fake.expect(listArgs, stdout: "no JSON here")
        fake.expect(["gh", "pr", "create", "-R", "acme/trainer", "--head", "b", "--base", "m", "--title", "t", "--body-file", "-"], stdout: "created!\n")
        let list = error { _ = try client(fake).findPullRequest(branch: "exp/lr") }
        XCTAssertEqual(list?.reason, .unexpectedOutput)
        XCTAssertEqual(list?.problem, "gh pr list did not print JSON")
        XCTAssertEqual(list?.isRetryable, false)
        let create = error { _ = try client(fake).createPullRequest(branch: "b", base: "m", title: "t", body: "", draft: false) }
        XCTAssertEqual(create?.reason, .unexpectedOutput)
        XCTAssertTrue(create?.message.contains("got: created!") == true, create?.message ?? "")
        fake.assertAllUsed()
    }

    /// An answer that lacks a field expt asked for says which field, in which command.
    func testMissingOrMistypedFieldsAreNamed() {
        let viewArgs = ["gh", "pr", "view", "3", "-R", "acme/trainer", "--json", "comments"]
        let cases: [(argv: [String], stdout: String, problem: String)] = [
            (listArgs, #"[{"isDraft":false,"number":7,"title":"t"}]"#, "gh pr list returned an item without 'url'"),
            (listArgs, #"[{"isDraft":false,"number":"7","title":"t","url":"u"}]"#, "gh pr list returned an item whose 'number' is not a number"),
            (listArgs, #"[{"isDraft":false,"number":7,"title":"t","url":null}]"#, "gh pr list returned an item whose 'url' is null, not a string"),
            (listArgs, #"{"number":7}"#, "gh pr list printed JSON that is not an array"),
            (listArgs, #"[7]"#, "gh pr list returned an item that is not an object"),
            (viewArgs, #"{"number":3}"#, "gh pr view returned an object without 'comments'"),
            (viewArgs, #"{"comments":[{"author":{"login":"a"}}]}"#, "gh pr view returned an item of 'comments' without 'body'"),
        ]
        for c in cases {
            let fake = FakeProcessRunner()
            fake.expect(c.argv, stdout: c.stdout + "\n")
            let e = error {
                if c.argv == listArgs { _ = try client(fake).findPullRequest(branch: "exp/lr") } else { _ = try client(fake).commentBodies(pr: 3) }
            }
            XCTAssertEqual(e?.reason, .unexpectedOutput, c.stdout)
            XCTAssertEqual(e?.problem, c.problem, c.stdout)
            XCTAssertTrue(e?.message.hasPrefix(c.problem + " (`gh pr ") == true, e?.message ?? "")
            XCTAssertTrue(e?.message.contains("got: " + c.stdout) == true, e?.message ?? "")
            XCTAssertEqual(e?.kind, .external)
            fake.assertAllUsed()
        }
    }

    func testGhMissing() {
        let missing = StrictThrowingRunner(listArgs, throwing: ProcessError.toolMissing(tool: "gh"))
        let fake = FakeProcessRunner()
        fake.expect(listArgs, status: 127)
        for runner in [missing as ProcessRunner, fake] {
            let e = error { _ = try GitHubClient(runner: runner, repo: repo).findPullRequest(branch: "exp/lr") }
            XCTAssertEqual(e?.reason, .ghMissing)
            XCTAssertEqual(e?.isRetryable, true)
            XCTAssertEqual(e?.message, "gh (the GitHub CLI) is not installed or not on PATH")
            XCTAssertEqual(e?.hint, "install it (apt-get install gh) and run `gh auth login`")
            XCTAssertEqual(e?.kind, .external)
        }
        XCTAssertEqual(missing.calls, 1)
        fake.assertAllUsed()
    }

    /// The runner's typed errors, never its message text, decide the reason.
    func testRunnerErrorsMapByType() {
        let comment = ["gh", "pr", "comment", "4", "-R", "acme/trainer", "--body-file", "-"]
        func reasonAndError(_ thrown: Error) -> GitHubError? {
            let runner = StrictThrowingRunner(comment, throwing: thrown)
            let e = error { try GitHubClient(runner: runner, repo: repo).comment(pr: 4, body: "b") }
            XCTAssertEqual(runner.calls, 1)
            return e
        }
        let timedOut = reasonAndError(ProcessError.timedOut(argv: comment, seconds: 120))
        XCTAssertEqual(timedOut?.reason, .timedOut)
        XCTAssertEqual(timedOut?.isRetryable, true, "the outbox keeps the item")
        XCTAssertEqual(timedOut?.kind, .external)
        XCTAssertTrue(timedOut?.message.hasPrefix("gh did not answer in time") == true, timedOut?.message ?? "")
        XCTAssertTrue(timedOut?.message.contains("stopped after 2m") == true, timedOut?.message ?? "")
        XCTAssertNotNil(timedOut?.hint)

        let cannotStart = reasonAndError(ProcessError.couldNotStart(tool: "gh", reason: "Permission denied", cwd: nil))
        XCTAssertEqual(cannotStart?.reason, .failed)
        XCTAssertEqual(cannotStart?.isRetryable, false)
        XCTAssertTrue(cannotStart?.message.contains("Permission denied") == true, cannotStart?.message ?? "")

        // Through an exec prefix the missing tool is the prefix (ssh), which is not gh missing.
        XCTAssertEqual(reasonAndError(ProcessError.toolMissing(tool: "ssh"))?.reason, .failed)
        // Message text that merely looks like "not on PATH" no longer counts.
        XCTAssertEqual(reasonAndError(ExptError(.external, "gh is not installed or not on PATH"))?.reason, .failed)
    }

    func testClassification() {
        func reason(_ status: Int32, _ stderr: String) -> GitHubError.Reason {
            GitHubError.classify(ProcessResult(argv: ["gh"], status: status, stdout: "", stderr: stderr), command: "gh").reason
        }
        XCTAssertEqual(reason(1, "error connecting to api.github.com\ncheck your internet connection or https://githubstatus.com\n"), .unreachable)
        XCTAssertEqual(reason(1, "HTTP 401: Bad credentials (https://api.github.com/graphql)\nTry authenticating with:  gh auth login\n"), .unreachable)
        XCTAssertEqual(reason(1, "GraphQL: API rate limit exceeded for user ID 1."), .rateLimited)
        XCTAssertEqual(reason(1, "GraphQL: Could not resolve to a PullRequest with the number of 99. (repository.pullRequest)"), .notFound)
        XCTAssertEqual(reason(1, "GraphQL: Could not resolve to a Repository with the name 'o/r'. (repository)"), .notFound)
        XCTAssertEqual(reason(1, "HTTP 502: Bad Gateway"), .unreachable)
        XCTAssertEqual(reason(1, "GraphQL: Resource not accessible by integration (addComment)"), .failed)
        XCTAssertEqual(reason(4, "anything"), .notAuthenticated)
    }

    func testMessagesAreRedacted() {
        let fake = FakeProcessRunner()
        let title = "leak ghp_" + String(repeating: "Z9", count: 18)
        fake.expect(["gh", "pr", "create", "-R", "acme/trainer", "--head", "b", "--base", "m", "--title", "leak ghp_[REDACTED]", "--body-file", "-"],
                    stderr: "boom: token ghp_\(String(repeating: "Q8", count: 18)) rejected\n", status: 1)
        let e = error { _ = try client(fake).createPullRequest(branch: "b", base: "m", title: title, body: "", draft: false) }
        let text = e?.description ?? ""
        XCTAssertFalse(text.contains("Z9Z9") || text.contains("Q8Q8"), text)
        XCTAssertTrue(text.contains("gh pr create -R acme/trainer"), text)
    }

    func testPinsGHHostToTheRepositoryHost() throws {
        let fake = FakeProcessRunner()
        fake.expect(["gh", "auth", "token"], stdout: "gho_dotcom\n")
        XCTAssertEqual(try client(fake).authToken(), "gho_dotcom")
        // gh auth token without --hostname reads GH_HOST, so it must be the repository's host.
        XCTAssertEqual(fake.calls.first?.environment?["GH_HOST"], "github.com")
        let caller = FakeProcessRunner()
        caller.expect(["gh", "auth", "token"], stdout: "x\n")
        _ = try client(caller, env: ["GH_HOST": "other.example"]).authToken()
        XCTAssertEqual(caller.calls.first?.environment?["GH_HOST"], "other.example", "the caller's environment wins")
    }

    func testPullNumberFromURL() {
        XCTAssertEqual(GitHubClient.pullNumber(fromURL: "https://github.com/o/r/pull/42"), 42)
        XCTAssertEqual(GitHubClient.pullNumber(fromURL: "https://ghe.io/o/r/pull/7#issuecomment-1"), 7)
        XCTAssertNil(GitHubClient.pullNumber(fromURL: "https://github.com/o/r/issues/42"))
    }
}

/// A strict runner for the one call that throws a runner error (FakeProcessRunner throws only
/// ExptError): any other argv fails the test.
final class StrictThrowingRunner: ProcessRunner, @unchecked Sendable {
    let argv: [String]
    let error: Error
    private let lock = NSLock()
    private var count = 0
    var calls: Int { lock.withLock { count } }

    init(_ argv: [String], throwing error: Error) { self.argv = argv; self.error = error }

    func run(_ argv: [String], stdin: Data?, environment: [String: String]?, cwd: String?) throws -> ProcessResult {
        lock.withLock { count += 1 }
        XCTAssertEqual(argv, self.argv, "StrictThrowingRunner: unexpected command")
        throw error
    }
}
