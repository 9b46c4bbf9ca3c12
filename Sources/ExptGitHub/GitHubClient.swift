import Foundation
import ExptModel

/// An open pull request, as `gh pr list --json number,url,title,isDraft` describes it.
public struct PullRequest: Equatable, Sendable, Codable {
    public var number: Int
    public var url: String
    public var title: String
    public var isDraft: Bool

    public init(number: Int, url: String, title: String, isDraft: Bool) {
        self.number = number; self.url = url; self.title = title; self.isDraft = isDraft
    }
}

/// The GitHub operations expt needs, done by shelling out to `gh` through a `ProcessRunner`
/// (never our own HTTP: gh owns the credentials, Enterprise hosts and proxies).
///
/// Every call names the repository with `-R` (gh cannot infer it here), runs non-interactively,
/// and sends bodies on stdin with `--body-file -` so they never appear in argv (`ps`, logs).
/// Titles and bodies are redacted before they leave, whatever the caller already did.
/// Failures are thrown as `GitHubError` (a `UserFacingError`); `.isRetryable` says whether to try
/// again later.
public struct GitHubClient: Sendable {
    public let runner: ProcessRunner
    public let repo: GitHubRepo
    /// Extra environment for gh (e.g. GH_TOKEN, GH_CONFIG_DIR); wins over the defaults below and
    /// over the GH_HOST the client pins.
    public let environment: [String: String]?

    public init(runner: ProcessRunner, repo: GitHubRepo, environment: [String: String]? = nil) {
        self.runner = runner; self.repo = repo; self.environment = environment
    }

    /// Set on every call: no prompts (a prompt would hang or fail oddly), no update notice on
    /// stderr, no colour or pager in output we parse.
    public static let baseEnvironment = [
        "GH_PROMPT_DISABLED": "1", "GH_NO_UPDATE_NOTIFIER": "1", "NO_COLOR": "1", "GH_PAGER": "cat",
        "GH_SPINNER_DISABLED": "1",
    ]

    /// The JSON fields `findPullRequest` asks for (all exist in gh 2.23).
    public static let pullRequestFields = "number,url,title,isDraft"

    // MARK: - Operations

    /// The open PR whose head is `branch`, or nil when there is none.
    public func findPullRequest(branch: String) throws -> PullRequest? {
        let result = try gh(["pr", "list", "-R", repo.slug, "--head", branch, "--state", "open",
                             "--json", Self.pullRequestFields, "--limit", "1"])
        return try GHOutput.decode([PullRequest].self, from: result, name: "gh pr list").first
    }

    /// Opens a PR from `branch` into `base` and returns it. The body goes on stdin.
    public func createPullRequest(branch: String, base: String, title: String, body: String,
                                  draft: Bool) throws -> PullRequest {
        let safeTitle = Redactor.redact(title)
        var argv = ["pr", "create", "-R", repo.slug, "--head", branch, "--base", base,
                    "--title", safeTitle, "--body-file", "-"]
        if draft { argv.append("--draft") }
        let result = try gh(argv, stdin: Redactor.redact(body))
        // gh prints the URL as its last stdout line; anything before it is chatter.
        guard let url = Self.lastURL(in: result.stdout), let number = Self.pullNumber(fromURL: url) else {
            throw GHOutput.unexpected(result, problem: "gh pr create printed no pull request URL (…/pull/N) on stdout")
        }
        return PullRequest(number: number, url: url, title: safeTitle, isDraft: draft)
    }

    /// Comments on PR `pr`; returns the comment's URL when gh printed one.
    @discardableResult
    public func comment(pr: Int, body: String) throws -> String? {
        let result = try gh(["pr", "comment", String(pr), "-R", repo.slug, "--body-file", "-"],
                            stdin: Redactor.redact(body))
        return Self.lastURL(in: result.stdout)
    }

    /// Comments on the open PR of `branch`. The PR is looked up first, because gh's own branch
    /// selector also matches closed PRs and reads a numeric branch name as a PR number.
    @discardableResult
    public func comment(branch: String, body: String) throws -> String? {
        guard let pr = try findPullRequest(branch: branch) else {
            throw GitHubError(reason: .notFound, command: "gh pr list -R \(repo.slug) --head \(branch)",
                              stderrTail: "no open pull request for branch \(branch) in \(repo.slug)")
        }
        return try comment(pr: pr.number, body: body)
    }

    /// The bodies of PR `pr`'s comments, oldest first (to find expt's `<!-- expt:… -->` markers
    /// before posting again after an attempt whose outcome is unknown).
    public func commentBodies(pr: Int) throws -> [String] {
        let result = try gh(["pr", "view", String(pr), "-R", repo.slug, "--json", "comments"])
        struct View: Decodable {
            struct Comment: Decodable { var body: String }
            var comments: [Comment]
        }
        return try GHOutput.decode(View.self, from: result, name: "gh pr view").comments.map(\.body)
    }

    /// The token gh would use (for https pushes), or nil when gh is not logged in.
    public func authToken() throws -> String? {
        var argv = ["auth", "token"]
        if repo.isEnterprise { argv += ["--hostname", repo.host] }
        do {
            let token = try gh(argv).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return token.isEmpty ? nil : token
        } catch let error as GitHubError where error.reason == .notAuthenticated
                    || (error.status == 1 && error.stderrTail.lowercased().contains("no oauth token")) {
            // gh 2.23 says "no oauth token" (exit 1) when nothing is configured for the host.
            return nil
        }
    }

    // MARK: - Running gh

    /// Runs `gh args…`; returns the result when gh exited 0, throws a classified error otherwise.
    @discardableResult
    func gh(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
        let argv = ["gh"] + args
        let command = Redactor.redact(ShellQuote.join(argv))
        var env = Self.baseEnvironment
        // `-R` names the host for pr commands, but `gh auth token` without --hostname takes
        // GH_HOST, which may point elsewhere (GH_REPO=github.com/o/r with GH_HOST=ghe.corp).
        env["GH_HOST"] = repo.host
        for (key, value) in environment ?? [:] { env[key] = value }
        let result: ProcessResult
        do {
            result = try runner.run(argv, stdin: stdin.map { Data($0.utf8) }, environment: env, cwd: nil)
        } catch let error as ProcessError {
            throw Self.mapped(error, command: command)
        } catch {
            // Another runner's own error (an exec prefix's): gh did not run.
            throw GitHubError(reason: .failed, command: command, stderrTail: Redactor.redact("\(error)"))
        }
        guard result.status == 0 else { throw GitHubError.classify(result, command: command) }
        return result
    }

    /// Why gh did not run, by the runner's typed error (never its message text).
    static func mapped(_ error: ProcessError, command: String) -> GitHubError {
        switch error {
        case .toolMissing(let tool) where tool == "gh" || tool.hasSuffix("/gh"):
            return GitHubError(reason: .ghMissing, command: command)
        case .toolMissing, .couldNotStart:
            // Also a missing exec prefix (ssh): that is not gh missing, and needs a person.
            return GitHubError(reason: .failed, command: command, stderrTail: Redactor.redact(error.message))
        case .timedOut(_, let seconds):
            // The outcome of a write is unknown; the outbox looks for its marker before resending.
            return GitHubError(reason: .timedOut, command: command,
                               stderrTail: "stopped after \(Units.duration(Int(seconds.rounded(.up))))")
        }
    }

    /// The last http(s) URL on its own in `text` (gh prints URLs as whole lines).
    static func lastURL(in text: String) -> String? {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .last { $0.hasPrefix("https://") || $0.hasPrefix("http://") }
    }

    /// 42 for `https://github.com/o/r/pull/42` (also with a `#…` fragment or trailing slash).
    public static func pullNumber(fromURL url: String) -> Int? {
        let path = url.split(separator: "#").first.map(String.init) ?? url
        let parts = path.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "pull" else { return nil }
        return Int(parts[parts.count - 1])
    }
}
