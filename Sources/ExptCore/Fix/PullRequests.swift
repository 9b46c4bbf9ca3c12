import Foundation
import ExptModel
import GitKit

/// What `expt pr` did.
public struct PullRequestResult: Codable, Sendable {
    public var branch: String
    public var number: Int
    public var url: String
    public var created: Bool
}

/// The branch's pull request: found, or created with the branch doc as its body.
public enum PullRequests {
    /// With `dryRun`, an existing PR is returned and a missing one is reported with number 0
    /// and its would-be title in `url`.
    public static func ensure(_ ws: Workspace, branch: String, draft: Bool, dryRun: Bool = false,
                              hostFactory: PullRequestHostFactory) throws -> PullRequestResult {
        try ws.requireBranch(branch)
        guard let url = try ws.repo.remoteURL("origin") else {
            throw ExptError(.invalidInput, "the repository has no remote 'origin' to open a pull request on",
                            hint: "add one: git remote add origin git@github.com:OWNER/REPO.git")
        }
        guard let host = hostFactory(url) else {
            throw ExptError(.invalidInput, "origin (\(url)) is not a GitHub remote, so expt cannot open a pull request there")
        }
        if let pr = try host.findPullRequest(branch: branch) {
            return PullRequestResult(branch: branch, number: pr.number, url: pr.url, created: false)
        }
        guard let base = try ws.base(of: branch) else {
            throw ExptError(.invalidInput, "'\(branch)' has no recorded base branch for the pull request to target")
        }
        if dryRun {
            let doc = try ws.repo.fileText(ws.docRelativePath(for: branch), in: try ws.repo.branchTip(branch)) ?? ""
            return PullRequestResult(branch: branch, number: 0, url: "\"\(title(branch: branch, doc: doc))\" into \(base)", created: false)
        }
        // gh pr create needs the branch on the remote.
        try PushScan.refuseSecrets(ws.repo, branch: branch, remote: "origin", base: base)
        do {
            try ws.repo.push(branch: branch, remote: "origin", credentials: PushCredentials(httpsToken: { host.authToken() }))
        } catch {
            throw ExptError(.external, "could not push \(branch) to origin before opening the pull request: \(error)",
                            hint: "check your network and credentials (ssh-agent, or `gh auth login` for https)")
        }
        let tip = try ws.repo.branchTip(branch)
        let doc = try ws.repo.fileText(ws.docRelativePath(for: branch), in: tip) ?? "Experiment \(branch).\n"
        let pr = try host.createPullRequest(branch: branch, base: base, title: title(branch: branch, doc: doc),
                                            body: Redactor.redact(doc), draft: draft)
        return PullRequestResult(branch: branch, number: pr.number, url: pr.url, created: true)
    }

    /// "exp/lr: <first sentence of the Purpose section>", or the branch name alone.
    static func title(branch: String, doc: String) -> String {
        let lines = doc.components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: { $0.hasPrefix("## Purpose") }) else { return branch }
        let first = lines[(i + 1)...].first { l in
            let t = l.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("<!--") && !t.hasPrefix("#")
        }
        guard let text = first?.trimmingCharacters(in: .whitespaces) else { return branch }
        return "\(branch): \(text.prefix(80))"
    }
}
