import XCTest
import ExptCore
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
        XCTAssertEqual(error { _ = try client(fake).findPullRequest(branch: "exp/lr") }?.reason, .unexpectedOutput)
        XCTAssertEqual(error { _ = try client(fake).createPullRequest(branch: "b", base: "m", title: "t", body: "", draft: false) }?.reason, .unexpectedOutput)
    }

    func testGhMissing() {
        let fake = FakeProcessRunner()
        fake.expect(listArgs, throwing: ExptError(.external, "gh is not installed or not on PATH"))
        fake.expect(listArgs, status: 127)
        for _ in 0..<2 {
            let e = error { _ = try client(fake).findPullRequest(branch: "exp/lr") }
            XCTAssertEqual(e?.reason, .ghMissing)
            XCTAssertEqual(e?.isRetryable, true)
            XCTAssertEqual(e?.exptError.message, "gh (the GitHub CLI) is not installed or not on PATH")
            XCTAssertEqual(e?.exptError.hint, "install it (apt-get install gh) and run `gh auth login`")
            XCTAssertEqual(e?.exptError.kind, .external)
        }
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

    func testPullNumberFromURL() {
        XCTAssertEqual(GitHubClient.pullNumber(fromURL: "https://github.com/o/r/pull/42"), 42)
        XCTAssertEqual(GitHubClient.pullNumber(fromURL: "https://ghe.io/o/r/pull/7#issuecomment-1"), 7)
        XCTAssertNil(GitHubClient.pullNumber(fromURL: "https://github.com/o/r/issues/42"))
    }
}
