import Foundation
import ExptModel
import GitKit

/// One fix as `expt history` shows it: what failed, what changed, and what the next run did.
public struct FixHistoryEntry: Codable, Sendable {
    public var branch: String
    public var number: Int
    public var date: String
    public var category: String
    public var failedRun: String
    public var failedJob: String?
    public var evidence: String?
    public var change: String?
    public var commit: String?
    public var nextRun: String?
    /// The next run's state (`succeeded`, `failed`, `running`, ...), `failed (oom_host)` with its
    /// diagnosis, or `unknown` when the ledger does not know it (another clone).
    public var outcome: String
    /// Did the fix work? true when the next run succeeded, false when it failed, nil otherwise.
    public var worked: Bool?
}

/// Reads the fix history from the branch docs (which travel with the branches and survive the
/// merge), the commits' trailers, and the ledger.
public enum FixHistory {
    /// Fixes of `branch`, or of every experiment (including ones merged into the main
    /// worktree's branch, whose docs are on it), in branch then entry order.
    public static func collect(_ ws: Workspace, ledger: Ledger?, branch: String?) throws -> [FixHistoryEntry] {
        var docs: [(branch: String, text: String, tip: ObjectID)] = []
        var seen = Set<String>()
        func add(_ b: String, at tip: ObjectID) throws {
            guard !seen.contains(b), let text = try ws.repo.fileText(ws.docRelativePath(for: b), in: tip) else { return }
            seen.insert(b); docs.append((b, text, tip))
        }
        let mainTip = try ws.repo.headCommit()
        if let branch {
            try ws.validate(branch)
            if try ws.repo.branchExists(branch) { try add(branch, at: try ws.repo.branchTip(branch)) }
            if let mainTip { try add(branch, at: mainTip) }
            if docs.isEmpty {
                throw ExptError(.notFound, "no doc for '\(branch)' on the branch or on \(try ws.repo.currentBranch() ?? "HEAD")",
                                hint: "`expt list` shows the experiments")
            }
        } else {
            for b in try ws.experimentBranches() { try add(b, at: try ws.repo.branchTip(b)) }
            if let mainTip {
                for path in try ws.repo.files(under: "docs", in: mainTip) where path.hasSuffix(".md") {
                    let b = String(path.dropFirst("docs/".count).dropLast(".md".count))
                    guard Repository.isValidBranchName(b) else { continue }
                    try add(b, at: mainTip)
                }
            }
        }
        var out: [FixHistoryEntry] = []
        for d in docs {
            let fixes = BranchDoc(d.text).fixes
            guard !fixes.isEmpty else { continue }
            let trailers = try commitsByRun(ws.repo, from: d.tip)
            for f in fixes {
                let parts = f.heading.components(separatedBy: " — ")
                let failed = firstWord(f.fields["Failed run"]) ?? "?"
                let next = firstWord(f.fields["Relaunched as"])
                var outcome = "unknown", worked: Bool?
                if let next, let r = try ledger?.run(id: next) {
                    outcome = r.state.rawValue + (r.state.isFailure ? " (\(r.diagnosis ?? "undiagnosed"))" : "")
                    worked = r.state == .succeeded ? true : r.state.isFailure ? false : nil
                }
                out.append(FixHistoryEntry(
                    branch: d.branch, number: f.number, date: parts.count > 1 ? parts[1] : "",
                    category: parts.count > 2 ? parts[2] : (f.fields["Diagnosis"].flatMap(firstWord) ?? "?"),
                    failedRun: failed, failedJob: f.fields["Failed run"].flatMap(jobOf),
                    evidence: f.fields["Evidence"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "`")) },
                    change: f.fields["Change"], commit: trailers[failed], nextRun: next, outcome: outcome, worked: worked))
            }
        }
        return out
    }

    /// `Expt-Run` trailer → commit id, for fix commits reachable from `tip`.
    static func commitsByRun(_ repo: Repository, from tip: ObjectID) throws -> [String: String] {
        var map: [String: String] = [:]
        for c in try repo.log(from: tip, limit: 5000) where c.trailer("Expt-Fix") != nil {
            if let r = c.trailer("Expt-Run"), map[r] == nil { map[r] = c.id.hex }
        }
        return map
    }

    static func firstWord(_ s: String?) -> String? {
        s?.split(separator: " ").first.map(String.init)
    }
    static func jobOf(_ s: String) -> String? {
        guard let r = s.range(of: "(job ") else { return nil }
        return String(s[r.upperBound...].prefix { $0 != ")" })
    }
}

extension Repository {
    /// True when git accepts `name` as a branch name.
    public static func isValidBranchName(_ name: String) -> Bool { (try? validateBranchName(name)) != nil }
}
