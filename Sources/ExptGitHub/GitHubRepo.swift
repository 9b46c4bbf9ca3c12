import Foundation

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
    public static func parse(remoteURL: String) -> GitHubRepo? {
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
        host = host.lowercased()
        guard isPlausibleHost(host) else { return nil }
        if ["www.github.com", "ssh.github.com"].contains(host) { host = defaultHost }

        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix(".git") { path.removeLast(4) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // GitHub has exactly owner/name; deeper paths are GitLab subgroups or web pages.
        guard parts.count == 2, isValidOwner(parts[0]), isValidName(parts[1]) else { return nil }
        return GitHubRepo(owner: String(parts[0]), name: String(parts[1]), host: host)
    }

    /// Hosts known not to be GitHub: their URLs have the same shape, but gh cannot talk to them.
    private static let otherForges: Set<String> = ["gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com",
                                                   "sr.ht", "git.sr.ht", "dev.azure.com", "ssh.dev.azure.com",
                                                   "huggingface.co", "hf.co"]

    private static func isPlausibleHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.contains("."), !otherForges.contains(host), !host.hasPrefix("gitlab."),
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
        else { return false }
        return true
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
