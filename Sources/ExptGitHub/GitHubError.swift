import Foundation
import ExptCore

/// A failed gh call, classified so a caller (the fix-and-relaunch outbox) can decide whether to
/// try again later (`isRetryable`) or report it for good. `exptError` is the user-facing form
/// (kind `.external`, exit 5), with every message already redacted.
public struct GitHubError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Why gh failed.
    public enum Reason: String, Sendable, Equatable {
        /// gh is not installed or not on PATH (or the exec prefix could not find it).
        case ghMissing
        /// gh has no credentials at all (exit 4).
        case notAuthenticated
        /// The API could not be reached, or rejected the token. gh 2.23 reports both the same
        /// way offline, so they cannot be told apart honestly.
        case unreachable
        /// GitHub's rate limit: fine again later.
        case rateLimited
        /// The pull request or repository does not exist (or is invisible to this token).
        case notFound
        /// `gh pr create` found an open PR for the branch; `url` is that PR.
        case alreadyExists
        /// gh succeeded but printed something this client cannot read.
        case unexpectedOutput
        /// Any other failure of gh.
        case failed
    }

    public var reason: Reason
    /// The command that failed, already redacted (the PR title travels in argv).
    public var command: String
    public var status: Int32?
    /// The last lines of gh's stderr, redacted.
    public var stderrTail: String
    /// The existing PR's URL for `.alreadyExists`.
    public var url: String?

    public init(reason: Reason, command: String, status: Int32? = nil, stderrTail: String = "", url: String? = nil) {
        self.reason = reason; self.command = command; self.status = status
        self.stderrTail = stderrTail; self.url = url
    }

    /// True when the same call may well succeed later without anyone changing expt's input:
    /// gh installed, logged in, network back, rate limit reset. False for a missing PR, an
    /// existing PR, unreadable output and unclassified failures, which need a person.
    public var isRetryable: Bool {
        switch reason {
        case .ghMissing, .notAuthenticated, .unreachable, .rateLimited: return true
        case .notFound, .alreadyExists, .unexpectedOutput, .failed: return false
        }
    }

    /// The domain error the CLI prints (always `.external`: gh is an external tool).
    public var exptError: ExptError {
        let detail = stderrTail.isEmpty ? "" : "\n" + stderrTail
        switch reason {
        case .ghMissing:
            return ExptError(.external, "gh (the GitHub CLI) is not installed or not on PATH",
                             hint: "install it (apt-get install gh) and run `gh auth login`")
        case .notAuthenticated:
            return ExptError(.external, "gh is not logged in to GitHub (`\(command)` exited 4)",
                             hint: "run `gh auth login`, or set GH_TOKEN")
        case .unreachable:
            return ExptError(.external, "gh could not reach GitHub or is not authenticated (`\(command)`)" + detail,
                             hint: "check the network and `gh auth status`; if the token is invalid, run `gh auth login`")
        case .rateLimited:
            return ExptError(.external, "GitHub's API rate limit was hit (`\(command)`)" + detail,
                             hint: "wait a while and try again")
        case .notFound:
            return ExptError(.external, "GitHub has no such pull request or repository (`\(command)`)" + detail,
                             hint: "check the repository (remote URL) and the PR number, and that your token can see it")
        case .alreadyExists:
            return ExptError(.external, "a pull request for this branch already exists" + (url.map { ": \($0)" } ?? ""),
                             hint: nil)
        case .unexpectedOutput:
            return ExptError(.external, "could not read the output of `\(command)`" + detail,
                             hint: "check `gh --version` (expt is tested with gh 2.23)")
        case .failed:
            return ExptError(.external, "`\(command)` failed" + (status.map { " (exit \($0))" } ?? "") + detail,
                             hint: nil)
        }
    }

    public var description: String { exptError.description }

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
