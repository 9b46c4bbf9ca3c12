import Foundation
import ExptModel

/// `expt report`: the active experiments as one status document.
public struct ExperimentReport: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var branch: String
        public var run: String
        public var state: String
        public var progress: String?
        public var wandb: String?
        /// Runs of the branch the scheduler preempted so far.
        public var preemptions: Int
        /// The last Fix entry: "oom_host in r2: mem 4G → 6G".
        public var lastFix: String?
        public var discrepancies: [Discrepancy]
        public var view: RunView
    }
    public var generatedAt: Date
    public var experiments: [Row]
}

extension RunService {
    /// Every experiment branch with a run: its latest run (refreshed and reconciled with its
    /// tracker in one call), its preemptions and its last fix.
    public func report() throws -> ExperimentReport {
        let branches = try ws.experimentBranches()
        let all = try refresh(branches: Set(branches))
        let latest = Dictionary(grouping: all, by: \.branch).compactMapValues { $0.max { $0.seq < $1.seq } }
        let records = branches.compactMap { latest[$0] }
        let views = self.views(diagnoseNewFailures(records))
        let fixes = (try? FixHistory.collect(ws, ledger: try ledger(), branch: nil)) ?? []
        var rows: [ExperimentReport.Row] = []
        for v in views {
            let fix = fixes.last { $0.branch == v.branch }.map { f in
                "\(f.category) in \(f.failedRun)" + (f.change.map { ": \($0)" } ?? "") + (f.nextRun.map { " → \($0) \(f.outcome)" } ?? "")
            }
            rows.append(ExperimentReport.Row(
                branch: v.branch, run: v.run, state: v.stateText, progress: v.progress,
                wandb: v.wandb?.url ?? v.wandb?.directories.last.map { "offline: \($0)" },
                preemptions: all.filter { $0.branch == v.branch && $0.state == .preempted }.count,
                lastFix: fix, discrepancies: v.discrepancies, view: v))
        }
        return ExperimentReport(generatedAt: now(), experiments: rows)
    }
}

extension ExperimentReport {
    /// The report as markdown. Every cell is escaped: branch names, log lines and fix texts are
    /// untrusted and must not break the table or forge a mention.
    public var markdown: String {
        var out = "# Active experiments\n\n_\(experiments.count) experiment(s), written by `expt report` at \(ISO8601.timestamp(generatedAt))._\n\n"
        if experiments.isEmpty { return out + "No experiment has a run yet.\n" }
        out += "| Branch | Run | State | Progress | W&B | Preemptions | Last fix | Discrepancies |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        for r in experiments {
            let link = r.wandb.map { $0.hasPrefix("http") ? "[run](\(Self.cell($0)))" : Self.cell($0) } ?? "-"
            let issues = r.discrepancies.map { "**\($0.kind.rawValue)**: \(Self.cell($0.detail))" }.joined(separator: "<br>")
            out += "| \(Self.code(r.branch)) | \(r.run) | \(Self.cell(r.state)) | \(Self.cell(r.progress ?? "-")) | \(link) | \(r.preemptions) | \(Self.cell(r.lastFix ?? "-")) | \(issues.isEmpty ? "-" : issues) |\n"
        }
        return out
    }

    /// Text safe in a table cell: no pipes, newlines, HTML or mentions.
    static func cell(_ s: String) -> String {
        var t = s.replacingOccurrences(of: "\\", with: "\\\\")
        for (from, to) in [("|", "\\|"), ("\n", " "), ("\r", " "), ("<", "&lt;"), (">", "&gt;"), ("@", "&#64;"), ("`", "\\`"), ("[", "\\["), ("]", "\\]"), ("*", "\\*"), ("_", "\\_")] {
            t = t.replacingOccurrences(of: from, with: to)
        }
        return t
    }

    static func code(_ s: String) -> String { "`" + s.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|") + "`" }
}
