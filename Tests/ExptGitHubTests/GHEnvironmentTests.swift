import XCTest
import ExptCore
import ExptModel
import ExptTestSupport
@testable import ExptGitHub

/// gh's own conventions through `GitHubHost.factory`: GH_REPO (`[HOST/]OWNER/REPO`) wins over
/// the remote URL, GH_HOST is the host of a bare OWNER/REPO and lets an Enterprise remote be
/// recognised (`gh help environment`, capture shared/fixtures/gh/local-2.23.0/help-environment).
final class GHEnvironmentTests: XCTestCase {
    func listArgs(_ slug: String) -> [String] {
        ["gh", "pr", "list", "-R", slug, "--head", "exp/lr", "--state", "open",
         "--json", "number,url,title,isDraft", "--limit", "1"]
    }

    func host(_ fake: FakeProcessRunner, _ env: [String: String], remote: String,
              file: StaticString = #filePath, line: UInt = #line) throws -> PullRequestHost {
        try XCTUnwrap(GitHubHost.factory(runner: fake, environment: env)(remote), "no host for \(remote) with \(env)",
                      file: file, line: line)
    }

    func testGHRepoWinsOverANonGitHubOrigin() throws {
        for remote in ["/srv/git/trainer.git", "https://gitlab.com/acme/trainer.git", "file:///x/y.git"] {
            let fake = FakeProcessRunner()
            fake.expect(listArgs("acme/trainer"), stdout: "[]\n")
            let h = try host(fake, ["GH_REPO": "acme/trainer"], remote: remote)
            XCTAssertNil(try h.findPullRequest(branch: "exp/lr"))
            XCTAssertEqual(fake.calls.first?.environment?["GH_HOST"], "github.com")
            // The push goes to origin, which is not github.com: gh's token must not go there.
            XCTAssertNil(h.authToken())
            fake.assertAllUsed()
        }
        // Without GH_REPO such a remote has no host, as before.
        XCTAssertNil(GitHubHost.factory(runner: FakeProcessRunner(), environment: [:])("/srv/git/trainer.git"))
        XCTAssertNil(GitHubHost.factory(runner: FakeProcessRunner(), environment: ["GH_REPO": ""])("/srv/git/trainer.git"),
                     "gh ignores an empty GH_REPO")
    }

    func testGHRepoWinsOverAGitHubOriginAndKeepsTheTokenOnTheSameHost() throws {
        let fake = FakeProcessRunner()
        fake.expect(listArgs("acme/trainer"), stdout: "[]\n")
        fake.expect(["gh", "auth", "token"], stdout: "gho_t\n")
        let h = try host(fake, ["GH_REPO": "acme/trainer"], remote: "git@github.com:someone/fork.git")
        XCTAssertNil(try h.findPullRequest(branch: "exp/lr"))
        XCTAssertEqual(h.authToken(), "gho_t")
        fake.assertAllUsed()
    }

    func testHostOwnerRepoForm() throws {
        let fake = FakeProcessRunner()
        fake.expect(["gh", "pr", "view", "1", "-R", "ghe.corp.io/ml/t", "--json", "comments"], stdout: #"{"comments":[]}"#)
        fake.expect(["gh", "pr", "comment", "1", "-R", "ghe.corp.io/ml/t", "--body-file", "-"], stdout: "")
        let h = try host(fake, ["GH_REPO": "GHE.corp.io/ml/t"], remote: "https://github.com/acme/trainer.git")
        XCTAssertEqual(try h.commentBodies(number: 1), [])
        try h.comment(number: 1, body: "hi")
        XCTAssertEqual(fake.calls.first?.environment?["GH_HOST"], "ghe.corp.io")
        XCTAssertNil(h.authToken(), "origin is on github.com, the repository on ghe.corp.io")
        fake.assertAllUsed()
        // github.com spelled out is the plain OWNER/REPO slug.
        XCTAssertEqual(try GitHubRepo.resolve(remoteURL: "", environment: ["GH_REPO": "github.com/o/r"]), GitHubRepo(owner: "o", name: "r"))
        // gh also takes a URL there.
        XCTAssertEqual(try GitHubRepo.resolve(remoteURL: "", environment: ["GH_REPO": "https://github.com/o/r.git"]),
                       GitHubRepo(owner: "o", name: "r"))
    }

    func testGHHostIsTheHostOfABareGHRepo() throws {
        let fake = FakeProcessRunner()
        fake.expect(listArgs("ghe.corp.io/ml/t"), stdout: "[]\n")
        let h = try host(fake, ["GH_REPO": "ml/t", "GH_HOST": "ghe.corp.io"], remote: "/srv/git/t.git")
        XCTAssertNil(try h.findPullRequest(branch: "exp/lr"))
        fake.assertAllUsed()
        // A host in GH_REPO wins over GH_HOST.
        XCTAssertEqual(try GitHubRepo.resolve(remoteURL: "", environment: ["GH_REPO": "github.com/o/r", "GH_HOST": "ghe.corp.io"]),
                       GitHubRepo(owner: "o", name: "r"))
    }

    func testGHHostRecognisesAnEnterpriseRemote() throws {
        // A dotless intranet host does not look like GitHub on its own.
        let remote = "git@ghe:ml/trainer.git"
        XCTAssertNil(GitHubHost.factory(runner: FakeProcessRunner(), environment: [:])(remote))
        let fake = FakeProcessRunner()
        fake.expect(listArgs("ghe/ml/trainer"), stdout: #"[{"isDraft":false,"number":2,"title":"t","url":"https://ghe/ml/trainer/pull/2"}]"#)
        fake.expect(["gh", "auth", "token", "--hostname", "ghe"], stdout: "gho_e\n")
        let h = try host(fake, ["GH_HOST": "GHE"], remote: remote)
        XCTAssertEqual(try h.findPullRequest(branch: "exp/lr"), PullRequestRef(number: 2, url: "https://ghe/ml/trainer/pull/2"))
        XCTAssertEqual(h.authToken(), "gho_e", "the remote is on the repository's host")
        fake.assertAllUsed()
        // An Enterprise host with a dot is recognised with or without GH_HOST.
        XCTAssertEqual(try GitHubRepo.resolve(remoteURL: "https://ghe.corp.io/ml/t", environment: ["GH_HOST": "ghe.corp.io"]),
                       GitHubRepo(owner: "ml", name: "t", host: "ghe.corp.io"))
    }

    func testUnusableGHRepoIsReportedWhereThePRWorkHappens() throws {
        for value in ["trainer", "a/b/c/d", "o//r", "/o/r"] {
            let fake = FakeProcessRunner()
            let h = try host(fake, ["GH_REPO": value], remote: "git@github.com:acme/trainer.git")
            do {
                _ = try h.findPullRequest(branch: "exp/lr")
                XCTFail("GH_REPO=\(value) was accepted")
            } catch let e as GitHubError {
                XCTAssertEqual(e.reason, .invalidRepository, value)
                XCTAssertEqual(e.kind, .invalidInput)
                XCTAssertFalse(e.isRetryable)
                XCTAssertTrue(e.message.contains("'\(value)'"), e.message)
                XCTAssertNotNil(e.hint)
            }
            XCTAssertNil(h.authToken())
            XCTAssertTrue(fake.calls.isEmpty, "gh was run for an unusable GH_REPO")
        }
    }

    func testParseFullName() {
        XCTAssertEqual(GitHubRepo.parse(fullName: "o/r"), GitHubRepo(owner: "o", name: "r"))
        XCTAssertEqual(GitHubRepo.parse(fullName: "o/r", defaultHost: "ghe.x"), GitHubRepo(owner: "o", name: "r", host: "ghe.x"))
        XCTAssertEqual(GitHubRepo.parse(fullName: "www.github.com/o/r"), GitHubRepo(owner: "o", name: "r"))
        XCTAssertEqual(GitHubRepo.parse(fullName: " ghe.x/o/r.js \n"), GitHubRepo(owner: "o", name: "r.js", host: "ghe.x"))
        for bad in ["", "r", "o/", "/r", "h/o/r/x", "o/r name", "h!/o/r"] {
            XCTAssertNil(GitHubRepo.parse(fullName: bad), bad)
        }
    }
}
