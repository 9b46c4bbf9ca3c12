import ExptCore
import ExptModel

/// How tracker links, discrepancies and notices read under a table.
enum TrackerText {
    /// "r3 zombie: W&B says running, …" and, for a stall, its last line.
    static func discrepancies(_ views: [RunView]) -> String {
        views.flatMap { v in
            v.discrepancies.map { d in
                "\n\(v.run) \(d.kind.rawValue): \(d.detail)" + (d.lastLine.map { "\n  last line: \($0)" } ?? "")
            }
        }.joined()
    }

    /// "r3 W&B: https://wandb.ai/…" for runs with a link, or their run directory offline.
    static func links(_ views: [RunView]) -> String {
        views.compactMap { v -> String? in
            guard let w = v.wandb else { return nil }
            let where_ = w.url ?? w.directories.last.map { "offline, \($0)" } ?? "run \(w.id) (not seen yet)"
            return "\n\(v.run) W&B: \(where_)" + (w.state.map { " [\($0)]" } ?? "")
        }.joined()
    }

    /// Says once, on stderr, what the tracker could not do (not for --json: agents read stderr too).
    static func notices(_ service: RunService, _ console: Console) {
        for n in service.trackerNotices { console.note(n) }
    }
}
