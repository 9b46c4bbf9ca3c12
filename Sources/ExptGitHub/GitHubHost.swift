import Foundation
import ExptCore

/// `PullRequestHost` (the fix-and-relaunch workflow's view of a PR host) on top of
/// `GitHubClient`. Failures are rethrown as the client's `ExptError` (kind `.external`, exit 5);
/// use `GitHubClient` directly to see `GitHubError.isRetryable`.
public struct GitHubHost: PullRequestHost {
    public let client: GitHubClient

    public init(client: GitHubClient) { self.client = client }

    /// The host for a remote URL, running the real `gh`; nil when the URL is not GitHub-like.
    public static let factory: PullRequestHostFactory = factory(runner: SystemProcessRunner())

    /// The same with another runner (an exec prefix, a fake) or extra environment for gh.
    public static func factory(runner: ProcessRunner, environment: [String: String]? = nil) -> PullRequestHostFactory {
        return { url in
            guard let repo = GitHubRepo.parse(remoteURL: url) else { return nil }
            return GitHubHost(client: GitHubClient(runner: runner, repo: repo, environment: environment))
        }
    }

    public func findPullRequest(branch: String) throws -> PullRequestRef? {
        try mapped { try client.findPullRequest(branch: branch).map { PullRequestRef(number: $0.number, url: $0.url) } }
    }

    public func createPullRequest(branch: String, base: String, title: String, body: String,
                                  draft: Bool) throws -> PullRequestRef {
        try mapped {
            let pr = try client.createPullRequest(branch: branch, base: base, title: title, body: body, draft: draft)
            return PullRequestRef(number: pr.number, url: pr.url)
        }
    }

    public func comment(number: Int, body: String) throws {
        try mapped { _ = try client.comment(pr: number, body: body) }
    }

    public func commentBodies(number: Int) throws -> [String] {
        try mapped { try client.commentBodies(pr: number) }
    }

    /// nil when gh is missing, not logged in or fails: the push then goes without a token and
    /// reports its own error.
    public func authToken() -> String? {
        (try? client.authToken()) ?? nil
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as GitHubError { throw error.exptError }
    }
}
