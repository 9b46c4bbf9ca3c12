import Foundation
import ExptModel

/// A failed gh call, classified so a caller (the fix-and-relaunch outbox) can decide whether to
/// try again later (`isRetryable`) or report it for good. It is a `UserFacingError` itself (kind
/// `.external`, exit 5, except a bad GH_REPO), with every message already redacted, so the CLI
/// prints it like any other error.
public struct GitHubError: UserFacingError, Sendable, Equatable {
    /// Why gh failed.
    public enum Reason: String, Sendable, Equatable {
        /// gh is not installed or not on PATH (or the exec prefix could not find it).
        case ghMissing
        /// gh has no credentials at all (exit 4).
        case notAuthenticated
        /// The API could not be reached, or rejected the token. gh 2.23 reports both the same
        /// way offline, so they cannot be told apart honestly.
        case unreachable
        /// gh ran past the runner's deadline and was stopped (a hung network, a proxy).
        case timedOut
        /// GitHub's rate limit: fine again later.
        case rateLimited
        /// The pull request or repository does not exist (or is invisible to this token).
        case notFound
        /// `gh pr create` found an open PR for the branch; `url` is that PR.
        case alreadyExists
        /// gh succeeded but printed something this client cannot read; `problem` says what.
        case unexpectedOutput
        /// GH_REPO is set but is not `[HOST/]OWNER/REPO`; `problem` quotes it.
        case invalidRepository
        /// Any other failure of gh (or of starting it).
        case failed
    }

    public var reason: Reason
    /// The command that failed, already redacted (the PR title travels in argv).
    public var command: String
    public var status: Int32?
    /// The last lines of gh's stderr (or, for `.unexpectedOutput`, the start of its stdout), redacted.
    public var stderrTail: String
    /// The existing PR's URL for `.alreadyExists`.
    public var url: String?
    /// What exactly was wrong, in words (`gh pr list returned an item without 'url'`), redacted.
    public var problem: String?

    public init(reason: Reason, command: String, status: Int32? = nil, stderrTail: String = "",
                url: String? = nil, problem: String? = nil) {
        self.reason = reason; self.command = command; self.status = status
        self.stderrTail = stderrTail; self.url = url; self.problem = problem
    }

    /// True when the same call may well succeed later without anyone changing expt's input:
    /// gh installed, logged in, network back, rate limit reset, gh answering again. False for a
    /// missing PR, an existing PR, unreadable output, a bad GH_REPO and unclassified failures,
    /// which need a person.
    public var isRetryable: Bool {
        switch reason {
        case .ghMissing, .notAuthenticated, .unreachable, .timedOut, .rateLimited: return true
        case .notFound, .alreadyExists, .unexpectedOutput, .invalidRepository, .failed: return false
        }
    }

    /// `.external` (gh is an external tool), except a GH_REPO value the user has to fix.
    public var kind: ErrorKind { reason == .invalidRepository ? .invalidInput : .external }

    public var message: String {
        let detail = stderrTail.isEmpty ? "" : "\n" + stderrTail
        switch reason {
        case .ghMissing: return "gh (the GitHub CLI) is not installed or not on PATH"
        case .notAuthenticated: return "gh is not logged in to GitHub (`\(command)` exited 4)"
        case .unreachable: return "gh could not reach GitHub or is not authenticated (`\(command)`)" + detail
        case .timedOut: return "gh did not answer in time and was stopped (`\(command)`)" + detail
        case .rateLimited: return "GitHub's API rate limit was hit (`\(command)`)" + detail
        case .notFound: return "GitHub has no such pull request or repository (`\(command)`)" + detail
        case .alreadyExists: return "a pull request for this branch already exists" + (url.map { ": \($0)" } ?? "")
        case .unexpectedOutput:
            return (problem ?? "could not read the output of gh") + " (`\(command)`)" + detail
        case .invalidRepository: return problem ?? "GH_REPO is not in the [HOST/]OWNER/REPO format"
        case .failed: return "`\(command)` failed" + (status.map { " (exit \($0))" } ?? "") + detail
        }
    }

    public var hint: String? {
        switch reason {
        case .ghMissing: return "install it (apt-get install gh) and run `gh auth login`"
        case .notAuthenticated: return "run `gh auth login`, or set GH_TOKEN"
        case .unreachable: return "check the network and `gh auth status`; if the token is invalid, run `gh auth login`"
        case .timedOut:
            return "GitHub or the network may be slow; pending deliveries stay in the outbox and are retried "
                + "(raise EXPT_COMMAND_TIMEOUT=<seconds> if gh is only slow)"
        case .rateLimited: return "wait a while and try again"
        case .notFound:
            return "check the repository (GH_REPO, or the remote URL) and the PR number, and that your token can see it"
        case .alreadyExists: return nil
        case .unexpectedOutput: return "check `gh --version` (expt is tested with gh 2.23)"
        case .invalidRepository: return "set GH_REPO to OWNER/REPO or HOST/OWNER/REPO, or unset it to use the remote URL"
        case .failed: return nil
        }
    }

    /// Classifies a finished gh call that exited non-zero.
    static func classify(_ result: ProcessResult, command: String) -> GitHubError {
        let tail = Redactor.redact(result.stderrTail)
        let err = result.stderr.lowercased()
        func make(_ reason: Reason, url: String? = nil) -> GitHubError {
            GitHubError(reason: reason, command: command, status: result.status, stderrTail: tail, url: url)
        }
        // 127 is a shell's "command not found", as seen through an exec prefix (ssh, bash -c).
        if result.status == 127 { return make(.ghMissing) }
        if result.status == 4 { return make(.notAuthenticated) }
        if err.contains("already exists") {
            let url = result.stderr.split(whereSeparator: \.isWhitespace)
                .last { $0.hasPrefix("https://") || $0.hasPrefix("http://") }.map(String.init)
            return make(.alreadyExists, url: url)
        }
        if ["rate limit", "abuse detection"].contains(where: err.contains) { return make(.rateLimited) }
        if ["no pull requests found", "could not resolve to a pullrequest", "could not resolve to a repository",
            "could not resolve to an issue", "http 404", "not found"].contains(where: err.contains) {
            return make(.notFound)
        }
        if unreachableMarkers.contains(where: err.contains) { return make(.unreachable) }
        return make(.failed)
    }

    /// Network failures and rejected tokens, as gh 2.23 words them (see the captures in
    /// shared/fixtures/gh/local-2.23.0 and gh's api/http_client.go).
    private static let unreachableMarkers = [
        "error connecting to", "check your internet connection", "dial tcp", "proxyconnect",
        "connection refused", "no such host", "i/o timeout", "tls handshake", "connection reset",
        "network is unreachable", "timeout awaiting", "context deadline exceeded", "unexpected eof",
        "http 500", "http 502", "http 503", "http 504", "bad credentials", "http 401",
        "authentication failed", "is no longer valid", "gh auth login", "requires authentication",
    ]
}
