import Foundation
import ExptCore
import ExptGitHub

/// Pull requests on GitHub through the `gh` CLI: the core's `PullRequestHost` seam.
struct GitHubHost: PullRequestHost {
    let client: GitHubClient

    /// A host for GitHub remotes (github.com or Enterprise URL shapes); nil for anything else.
    static let factory: PullRequestHostFactory = { url in
        GitHubRepo.parse(remoteURL: url).map { GitHubHost(client: GitHubClient(runner: SystemProcessRunner(), repo: $0)) }
    }

    /// gh's errors in the core's words: `.external` means "try again later".
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as GitHubError { throw e.exptError }
    }

    func findPullRequest(branch: String) throws -> PullRequestRef? {
        try mapped { try client.findPullRequest(branch: branch).map { PullRequestRef(number: $0.number, url: $0.url) } }
    }
    func createPullRequest(branch: String, base: String, title: String, body: String, draft: Bool) throws -> PullRequestRef {
        try mapped {
            let pr = try client.createPullRequest(branch: branch, base: base, title: title, body: body, draft: draft)
            return PullRequestRef(number: pr.number, url: pr.url)
        }
    }
    func comment(number: Int, body: String) throws { _ = try mapped { try client.comment(pr: number, body: body) } }
    func commentBodies(number: Int) throws -> [String] { try mapped { try client.commentBodies(pr: number) } }
    func authToken() -> String? { (try? client.authToken()) ?? nil }
}
