/// A pull request as the host reports it.
public struct PullRequestRef: Codable, Sendable, Equatable {
    public var number: Int
    public var url: String
    public init(number: Int, url: String) { self.number = number; self.url = url }
}

/// Where pull requests live (GitHub through `gh`, in ExptGitHub). Errors of kind `.external`
/// are taken as "try again later" and leave the item in the outbox.
public protocol PullRequestHost {
    func findPullRequest(branch: String) throws -> PullRequestRef?
    func createPullRequest(branch: String, base: String, title: String, body: String, draft: Bool) throws -> PullRequestRef
    func comment(number: Int, body: String) throws
    func commentBodies(number: Int) throws -> [String]
    /// A token for https pushes, nil when none is available.
    func authToken() -> String?
}

/// Builds the host for a remote URL; nil when the remote is not on a known host.
public typealias PullRequestHostFactory = (_ remoteURL: String) -> PullRequestHost?
