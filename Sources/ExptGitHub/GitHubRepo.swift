import Foundation
import ExptModel

/// A repository on GitHub or a GitHub Enterprise host, as `gh -R` wants it.
///
/// gh on these machines cannot infer the repository from git remotes (a system-wide
/// `url.insteadOf` rewrites them), so every gh call names it explicitly with `-R slug`.
public struct GitHubRepo: Equatable, Sendable, CustomStringConvertible {
    /// `github.com` or an Enterprise host such as `ghe.example.com`.
    public var host: String
    public var owner: String
    public var name: String

    public init(owner: String, name: String, host: String = GitHubRepo.defaultHost) {
        self.owner = owner; self.name = name; self.host = host
    }

    public static let defaultHost = "github.com"

    /// True for a host other than github.com.
    public var isEnterprise: Bool { host != Self.defaultHost }

    /// What `-R` takes: `owner/name` on github.com, `host/owner/name` elsewhere (gh's
    /// `[HOST/]OWNER/REPO`).
    public var slug: String { isEnterprise ? "\(host)/\(owner)/\(name)" : "\(owner)/\(name)" }

    /// The repository's web address, for messages.
    public var webURL: String { "https://\(host)/\(owner)/\(name)" }

    public var description: String { slug }

    /// The repository a git remote URL points at, or nil when it does not look like GitHub
    /// (a local path, `file://`, a GitLab subgroup path, a known non-GitHub host).
    ///
    /// Accepted: `git@host:owner/name(.git)`, `ssh://[user@]host[:port]/owner/name(.git)`,
    /// `https://[user[:token]@]host[:port]/owner/name(.git)(/)`, `http://`, `git://`.
    /// A host in `knownHosts` (GH_HOST) is taken as GitHub even when it does not look like one
    /// (an Enterprise host without a dot, say).
    public static func parse(remoteURL: String, knownHosts: Set<String> = []) -> GitHubRepo? {
        let url = remoteURL.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty else { return nil }
        var host: String, path: String
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            guard ["https", "http", "ssh", "git", "git+ssh", "ssh+git"].contains(scheme) else { return nil }
            var rest = String(url[schemeEnd.upperBound...])
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            var authority = String(rest[..<slash])
            rest = String(rest[rest.index(after: slash)...])
            // user[:password]@ never belongs to the repository; drop it (and with it any token).
            if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
            if let colon = authority.lastIndex(of: ":"), !authority.hasPrefix("[") {
                let port = authority[authority.index(after: colon)...]
                guard port.allSatisfy(\.isNumber) else { return nil }
                authority = String(authority[..<colon])
            }
            host = authority; path = rest
        } else {
            // scp-like `[user@]host:path`. git treats it as local when a slash comes before the
            // colon (`./a:b`, `/srv/x:y`), and so do we.
            guard let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") else { return nil }
            var authority = String(url[..<colon])
            if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
            host = authority
            path = String(url[url.index(after: colon)...])
            if path.hasPrefix("/") { path.removeFirst() }
        }
        host = normalizeHost(host)
        guard isHostSyntax(host), knownHosts.contains(host) || isPlausibleHost(host) else { return nil }

        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix(".git") { path.removeLast(4) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // GitHub has exactly owner/name; deeper paths are GitLab subgroups or web pages.
        guard parts.count == 2, isValidOwner(parts[0]), isValidName(parts[1]) else { return nil }
        return GitHubRepo(owner: String(parts[0]), name: String(parts[1]), host: host)
    }

    /// The repository gh's `-R` / `GH_REPO` value names: `OWNER/REPO` (on `defaultHost`, which
    /// is GH_HOST when set), `HOST/OWNER/REPO`, or a URL, as gh's ghrepo.FromFullName reads it
    /// (cli/cli internal/ghrepo/repo.go; `gh help environment`). nil when it is none of these.
    public static func parse(fullName: String, defaultHost: String = GitHubRepo.defaultHost) -> GitHubRepo? {
        let value = fullName.trimmingCharacters(in: .whitespacesAndNewlines)
        // gh's git.IsURL: a scheme, or scp-like git@host:path.
        if value.contains("://") || value.hasPrefix("git@") {
            return parse(remoteURL: value, knownHosts: [normalizeHost(defaultHost)])
        }
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let owner = parts[parts.count - 2], name = parts[parts.count - 1]
        let host = normalizeHost(parts.count == 3 ? String(parts[0]) : defaultHost)
        guard isHostSyntax(host), isValidOwner(owner), isValidName(name) else { return nil }
        return GitHubRepo(owner: String(owner), name: String(name), host: host)
    }

    /// The repository gh calls should name for a remote, by gh's own rules: `GH_REPO` (when set
    /// and not empty) wins over the remote URL; `GH_HOST` is the host of a bare `OWNER/REPO` and a
    /// host a remote may be on. `environment` is the process environment. nil when neither names
    /// a GitHub repository; throws `.invalidRepository` for a GH_REPO gh itself would refuse.
    ///
    /// From `gh help environment` (gh 2.23 and cli.github.com/manual/gh_help_environment):
    /// "GH_REPO: specify the GitHub repository in the [HOST/]OWNER/REPO format for commands that
    /// otherwise operate on a local repository"; "GH_HOST: specify the GitHub hostname for commands
    /// where a hostname has not been provided, or cannot be inferred from the context of a local
    /// Git repository". gh reads both only when non-empty.
    public static func resolve(remoteURL: String, environment: [String: String]) throws -> GitHubRepo? {
        let envHost = ghHost(in: environment)
        if let value = environment["GH_REPO"]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            guard let repo = parse(fullName: value, defaultHost: envHost ?? defaultHost) else {
                throw GitHubError(reason: .invalidRepository, command: "GH_REPO",
                                  problem: Redactor.redact("GH_REPO is set to '\(value)', which is not [HOST/]OWNER/REPO"))
            }
            return repo
        }
        return parse(remoteURL: remoteURL, knownHosts: envHost.map { Set([$0]) } ?? [])
    }

    /// GH_HOST, normalised; nil when unset or empty.
    static func ghHost(in environment: [String: String]) -> String? {
        environment["GH_HOST"].map(normalizeHost).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// gh's spelling of a host: lower case, no `www.`, any `*.github.com` (ssh.github.com) is
    /// github.com (ghinstance.NormalizeHostname).
    static func normalizeHost(_ host: String) -> String {
        var h = host.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if h.hasPrefix("www.") { h.removeFirst(4) }
        if h.hasSuffix("." + defaultHost) { h = defaultHost }
        return h
    }

    /// Hosts known not to be GitHub: their URLs have the same shape, but gh cannot talk to them.
    private static let otherForges: Set<String> = ["gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com",
                                                   "sr.ht", "git.sr.ht", "dev.azure.com", "ssh.dev.azure.com",
                                                   "huggingface.co", "hf.co"]

    /// Looks like a GitHub host without being told: has a dot, is not a known other forge.
    private static func isPlausibleHost(_ host: String) -> Bool {
        host.contains(".") && !otherForges.contains(host) && !host.hasPrefix("gitlab.")
    }

    private static func isHostSyntax(_ host: String) -> Bool {
        !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
    }

    // GitHub's rules: owners are alphanumerics and single hyphens; repository names also allow
    // `.` and `_` (but are never `.` or `..`).
    private static func isValidOwner(_ s: Substring) -> Bool {
        !s.isEmpty && s.count <= 39 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    private static func isValidName(_ s: Substring) -> Bool {
        !s.isEmpty && s != "." && s != ".." && s.count <= 100
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
