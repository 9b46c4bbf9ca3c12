import Foundation
import ExptModel

/// `PullRequestHost` (the fix-and-relaunch workflow's view of a PR host) on top of
/// `GitHubClient`. Failures propagate as the client's `GitHubError`, a `UserFacingError` of kind
/// `.external` (exit 5) that also tells `isRetryable`.
public struct GitHubHost: PullRequestHost {
    public let client: GitHubClient
    /// Whether `authToken()` hands out gh's token. False when GH_REPO chose the repository and the
    /// remote being pushed to is on another host: the token must not reach a server it is not for.
    public let offersToken: Bool

    public init(client: GitHubClient, offersToken: Bool = true) {
        self.client = client; self.offersToken = offersToken
    }

    /// Builds the host for a remote URL by gh's conventions (`GitHubRepo.resolve`: GH_REPO wins
    /// over the remote, GH_HOST names the default and Enterprise host). `environment` is the
    /// process environment, read once by the caller; it is only consulted, not passed to gh (the
    /// runner's children inherit the real one). nil when neither GH_REPO nor the remote names a
    /// GitHub repository; a GH_REPO gh would refuse gives a host whose every call throws that error.
    public static func factory(runner: ProcessRunner = SystemProcessRunner(),
                               environment: [String: String]) -> PullRequestHostFactory {
        return { url in
            let repo: GitHubRepo
            do {
                guard let resolved = try GitHubRepo.resolve(remoteURL: url, environment: environment) else { return nil }
                repo = resolved
            } catch let error as GitHubError {
                return UnusableHost(error: error)
            } catch {
                return nil
            }
            let known = GitHubRepo.ghHost(in: environment).map { Set([$0]) } ?? []
            let remoteHost = GitHubRepo.parse(remoteURL: url, knownHosts: known)?.host
            return GitHubHost(client: GitHubClient(runner: runner, repo: repo), offersToken: remoteHost == repo.host)
        }
    }

    public func findPullRequest(branch: String) throws -> PullRequestRef? {
        try client.findPullRequest(branch: branch).map { PullRequestRef(number: $0.number, url: $0.url) }
    }

    public func createPullRequest(branch: String, base: String, title: String, body: String,
                                  draft: Bool) throws -> PullRequestRef {
        let pr = try client.createPullRequest(branch: branch, base: base, title: title, body: body, draft: draft)
        return PullRequestRef(number: pr.number, url: pr.url)
    }

    public func comment(number: Int, body: String) throws {
        _ = try client.comment(pr: number, body: body)
    }

    public func commentBodies(number: Int) throws -> [String] {
        try client.commentBodies(pr: number)
    }

    /// nil when gh is missing, not logged in or fails, or the token is not for the pushed-to
    /// host: the push then goes without a token and reports its own error.
    public func authToken() -> String? {
        guard offersToken else { return nil }
        return (try? client.authToken()) ?? nil
    }
}

/// Stands in when GH_REPO is unusable, so the error surfaces where the PR work happens (with its
/// hint) instead of as "not a GitHub remote".
struct UnusableHost: PullRequestHost {
    let error: GitHubError
    func findPullRequest(branch: String) throws -> PullRequestRef? { throw error }
    func createPullRequest(branch: String, base: String, title: String, body: String, draft: Bool) throws -> PullRequestRef {
        throw error
    }
    func comment(number: Int, body: String) throws { throw error }
    func commentBodies(number: Int) throws -> [String] { throw error }
    func authToken() -> String? { nil }
}
