import XCTest
import ExptModel
@testable import ExptGitHub

/// Remote URL shapes that name a GitHub repository, and look-alikes that do not.
final class GitHubRepoTests: XCTestCase {
    func testGitHubDotComShapes() {
        let expected = GitHubRepo(owner: "octo-org", name: "octo.repo_2")
        for url in ["git@github.com:octo-org/octo.repo_2.git", "git@github.com:octo-org/octo.repo_2",
                    "ssh://git@github.com/octo-org/octo.repo_2", "ssh://git@github.com:22/octo-org/octo.repo_2.git",
                    "https://github.com/octo-org/octo.repo_2", "https://github.com/octo-org/octo.repo_2.git",
                    "https://github.com/octo-org/octo.repo_2/", "http://www.github.com/octo-org/octo.repo_2",
                    "https://user:ghp_secret@github.com/octo-org/octo.repo_2.git", "https://ghp_tok@github.com/octo-org/octo.repo_2",
                    "git://github.com/octo-org/octo.repo_2.git", "ssh://git@ssh.github.com:443/octo-org/octo.repo_2.git",
                    "  https://GitHub.com/octo-org/octo.repo_2.git\n"] {
            XCTAssertEqual(GitHubRepo.parse(remoteURL: url), expected, url)
        }
        XCTAssertEqual(expected.slug, "octo-org/octo.repo_2")
        XCTAssertFalse(expected.isEnterprise)
    }

    func testEnterpriseHostsKeepTheHost() {
        let expected = GitHubRepo(owner: "ml", name: "trainer", host: "ghe.example.com")
        for url in ["git@ghe.example.com:ml/trainer.git", "ssh://git@ghe.example.com/ml/trainer",
                    "https://ghe.example.com/ml/trainer.git", "https://u:p@GHE.example.com:8443/ml/trainer"] {
            XCTAssertEqual(GitHubRepo.parse(remoteURL: url), expected, url)
        }
        XCTAssertEqual(expected.slug, "ghe.example.com/ml/trainer")
        XCTAssertTrue(expected.isEnterprise)
    }

    func testNotGitHub() {
        for url in ["/srv/git/repo.git", "../repo", "./a:b/c", "file:///srv/git/o/r.git", "repo", "",
                    "C:\\repos\\o\\r", "https://gitlab.com/o/r.git", "git@gitlab.com:o/r.git",
                    "https://gitlab.example.com/group/sub/repo.git", "https://github.com/o/r/tree/main",
                    "https://github.com/o", "git@localhost:o/r.git", "https://bitbucket.org/o/r",
                    "/opt/swift-packages/apple/swift-argument-parser", "https://github.com/o/../r"] {
            XCTAssertNil(GitHubRepo.parse(remoteURL: url), url)
        }
    }
}
