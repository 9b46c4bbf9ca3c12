import XCTest
import ExptCore
import ExptModel
import ExptTestSupport
@testable import ExptGitHub

/// The fake gh script (Tests/EndToEndTests/Fixtures/fake-gh) driven by the real client through
/// the real process runner: what the end-to-end tests will rely on.
final class FakeGHTests: XCTestCase {
    let repo = GitHubRepo(owner: "acme", name: "trainer")

    func makeFake(_ mode: FakeGH.Mode = .ok) throws -> FakeGH {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("the fake gh needs /usr/bin/python3") }
        return try FakeGH(mode: mode)
    }

    func testCreateFindCommentViewRoundTrip() throws {
        let fake = try makeFake()
        let client = GitHubClient(runner: SystemProcessRunner(), repo: repo, environment: fake.environment)
        XCTAssertNil(try client.findPullRequest(branch: "exp/lr"))
        let pr = try client.createPullRequest(branch: "exp/lr", base: "main", title: "exp/lr: lr sweep", body: "the doc\n", draft: true)
        XCTAssertEqual(pr, PullRequest(number: 1, url: "https://github.com/acme/trainer/pull/1", title: "exp/lr: lr sweep", isDraft: true))
        XCTAssertEqual(try client.findPullRequest(branch: "exp/lr"), pr)
        try client.comment(pr: 1, body: "<!-- expt:fix:a1 -->\nfirst")
        try client.comment(branch: "exp/lr", body: "second ✓ \"quoted\"")
        XCTAssertEqual(try client.commentBodies(pr: 1), ["<!-- expt:fix:a1 -->\nfirst", "second ✓ \"quoted\""])
        XCTAssertEqual(fake.comments(pr: 1), ["<!-- expt:fix:a1 -->\nfirst", "second ✓ \"quoted\""])
        XCTAssertEqual(fake.pullRequests().first?.body, "the doc\n")
        XCTAssertEqual(try client.authToken(), fake.token)
        XCTAssertEqual(fake.unexpectedCalls(), [])
        let calls = fake.calls()
        XCTAssertEqual(calls.count, 8)
        XCTAssertEqual(calls[1].argv, ["pr", "create", "-R", "acme/trainer", "--head", "exp/lr", "--base", "main",
                                       "--title", "exp/lr: lr sweep", "--body-file", "-", "--draft"])
        XCTAssertEqual(calls[1].stdin, "the doc\n")
        // A second create for the same branch is refused like gh does.
        let again = Result { try client.createPullRequest(branch: "exp/lr", base: "main", title: "t", body: "", draft: false) }
        XCTAssertEqual((again.failure as? GitHubError)?.reason, .alreadyExists)
        XCTAssertEqual((again.failure as? GitHubError)?.url, pr.url)
    }

    func testModes() throws {
        let fake = try makeFake(.offline)
        let n = try fake.addPullRequest(repo: "acme/trainer", branch: "exp/a", comments: ["old"])
        let client = GitHubClient(runner: SystemProcessRunner(), repo: repo, environment: fake.environment)
        XCTAssertEqual((Result { try client.commentBodies(pr: n) }.failure as? GitHubError)?.reason, .unreachable)
        XCTAssertEqual(try client.authToken(), fake.token, "gh auth token works offline")

        try fake.setMode(.noauth)
        XCTAssertEqual((Result { try client.comment(pr: n, body: "x") }.failure as? GitHubError)?.reason, .notAuthenticated)
        XCTAssertNil(try client.authToken())

        try fake.setMode(.ambiguous)
        XCTAssertEqual((Result { try client.comment(pr: n, body: "maybe") }.failure as? GitHubError)?.reason, .unreachable)
        try fake.setMode(.ok)
        XCTAssertEqual(try client.commentBodies(pr: n), ["old", "maybe"], "the ambiguous comment was stored")
        XCTAssertEqual((Result { try client.commentBodies(pr: 99) }.failure as? GitHubError)?.reason, .notFound)
        XCTAssertEqual(fake.unexpectedCalls(), [])
    }

    func testUnexpectedCallsAreRefusedAndLogged() throws {
        let fake = try makeFake()
        let runner = SystemProcessRunner()
        for argv in [["gh", "pr", "comment", "1", "-R", "acme/trainer", "--body", "in argv"],
                     ["gh", "pr", "comment", "1", "--body-file", "-"],
                     ["gh", "pr", "list", "--head", "b", "--state", "open", "--json", "number", "--limit", "1"],
                     ["gh", "pr", "view", "1", "-R", "acme/trainer", "--json", "isInMergeQueue"],
                     ["gh", "pr", "merge", "1", "-R", "acme/trainer"],
                     ["gh", "api", "graphql"]] {
            let r = try runner.run(argv, stdin: Data(), environment: fake.environment, cwd: nil)
            XCTAssertEqual(r.status, 99, "\(argv): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("fake-gh: unexpected call: "), r.stderr)
        }
        XCTAssertEqual(fake.unexpectedCalls().count, 6)
        XCTAssertEqual(fake.unexpectedCalls().first?.argv, ["pr", "comment", "1", "-R", "acme/trainer", "--body", "in argv"])
    }
}

private extension Result where Failure == Error {
    var failure: Error? { if case .failure(let e) = self { return e } else { return nil } }
}
