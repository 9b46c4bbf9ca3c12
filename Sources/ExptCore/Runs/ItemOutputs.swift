import Foundation
import ExptModel

/// Per-item outputs of an array or workflow run (`[outputs]` in expt.toml): where each item
/// writes, and the file whose presence says the item really finished. A task can end
/// "Succeeded" without finishing (the GWAS pipeline's reference case: all models must write
/// their filtered results), so an item without its marker counts as failed, and its partial
/// outputs are moved aside (never deleted) before it runs again.
public struct ItemOutputs: Sendable {
    /// `item_dir` with `{item}` replaced, absolute (relative ones are under the worktree).
    let itemDir: String
    let doneMarker: String?
    let worktree: String

    /// nil when expt.toml has no `[outputs]`.
    public init?(_ config: OutputsConfig, worktree: String) {
        guard let dir = config.itemDir else { return nil }
        itemDir = dir; doneMarker = config.doneMarker; self.worktree = worktree
    }

    public func dir(_ item: Int) -> String {
        let d = itemDir.replacingOccurrences(of: "{item}", with: String(item))
        return d.hasPrefix("/") ? d : worktree + "/" + d
    }

    public func marker(_ item: Int) -> String? { doneMarker.map { dir(item) + "/" + $0 } }

    /// `status` with every succeeded task whose done marker is missing turned into a failure
    /// (and the run, when it had succeeded). One existence check for all markers.
    func checked(_ status: JobStatus, files: ClusterFiles) throws -> JobStatus {
        let done = status.tasks.filter { $0.state == .succeeded }
        guard doneMarker != nil, !done.isEmpty else { return status }
        let present = try files.existing(done.compactMap { marker($0.index) })
        var out = status
        var incomplete = 0
        for (i, task) in out.tasks.enumerated() where task.state == .succeeded {
            guard let m = marker(task.index), !present.contains(m) else { continue }
            out.tasks[i].state = .failed
            out.tasks[i].rawState = "INCOMPLETE"
            out.tasks[i].message = "expt: item \(task.index) ended \(task.rawState) but its done marker \(m) is missing"
            incomplete += 1
        }
        if incomplete > 0, out.state == .succeeded {
            out.state = .failed
            out.reason = "\(incomplete) item(s) ended without their done marker"
        }
        return out
    }

    /// Where `item`'s outputs go when they are moved aside: a dated folder beside them,
    /// `<parent>/expt-aside/<day>-<run>/<name>`.
    public func asideDestination(_ item: Int, day: String, run: String) -> String {
        let d = dir(item) as NSString
        return "\(d.deletingLastPathComponent)/expt-aside/\(day)-\(run)/\(d.lastPathComponent)"
    }

    /// Moves the outputs of `items` that exist aside; returns the moves made.
    func moveAside(_ items: [Int], day: String, run: String, files: ClusterFiles) throws -> [String: String] {
        let existing = try files.existing(items.map(dir))
        var moved: [String: String] = [:]
        for item in items where existing.contains(dir(item)) {
            let to = asideDestination(item, day: day, run: run)
            try files.move(dir(item), to: to)
            moved[dir(item)] = to
        }
        return moved
    }
}
