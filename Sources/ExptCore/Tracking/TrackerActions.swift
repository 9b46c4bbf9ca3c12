import Foundation
import ExptModel

/// What expt does to tracker runs and sweeps: close zombies, tag superseded runs, cancel sweeps.
extension RunService {
    /// A zombie: its tracker run says running while its job has ended.
    public struct Zombie: Codable, Sendable {
        public var run: String
        public var branch: String
        public var trackerRun: String
        public var url: String?
        public var jobState: String
        /// "would_close" (dry run), "closed", or "failed".
        public var action: String
        public var detail: String
    }

    /// Finds the zombies among the runs of `branches` (all when nil) and, unless `dryRun`,
    /// marks their tracker runs failed.
    public func closeZombies(branches: Set<String>?, dryRun: Bool) throws -> [Zombie] {
        let records = try refresh(branches: branches)
        let report = tracking(records)
        for n in report.notices where !trackerNotices.contains(n) { trackerNotices.append(n) }
        var out: [Zombie] = []
        for r in records where report.discrepancies[r.id]?.contains(where: { $0.kind == .zombie }) == true {
            guard let (tracker, id) = trackerOf(r) else { continue }
            var z = Zombie(run: r.id, branch: r.branch, trackerRun: id, url: report.trackers[r.id]?.url,
                           jobState: r.state.rawValue, action: "would_close",
                           detail: "would mark \(tracker.name) run \(id) failed: job \(r.jobID ?? "?") ended (\(r.state.rawValue))")
            if !dryRun {
                do { z.detail = try tracker.close(runID: id); z.action = "closed" }
                catch let e as UserFacingError { z.action = "failed"; z.detail = e.description }
            }
            out.append(z)
        }
        return out
    }

    /// The sweep the branch's runs belong to: `[wandb] sweep` of its worktree, else what the
    /// tracker says of its latest runs.
    public func sweep(of branch: String) throws -> (tracker: RunTracker, sweep: String)? {
        let wt = existingWorktree(branch)
        guard let tracker = try tracker(worktree: wt) else { return nil }
        if let s = try config(worktree: wt).tracker?.sweep { return (tracker, s) }
        let runs = try ledger().runs(branch: branch).suffix(5)
        let report = tracking(Array(runs))
        for n in report.notices where !trackerNotices.contains(n) { trackerNotices.append(n) }
        for r in runs.reversed() { if let s = report.trackers[r.id]?.sweep { return (tracker, s) } }
        return nil
    }

    /// Tags the tracker run of `failed` as superseded by `newRun`, unless the new run continues
    /// the same tracker run (a resume). Returns what it did, nil when there is nothing to tag.
    public func supersede(failed: String, by newRun: String) throws -> String? {
        guard let old = try ledger().run(id: failed), let (tracker, oldID) = trackerOf(old) else { return nil }
        let newID = try ledger().run(id: newRun)?.spec?.environment["WANDB_RUN_ID"]
        guard newID != oldID else { return nil }
        try tracker.tag(runID: oldID, RunService.supersededTag)
        return "tagged \(tracker.name) run \(oldID) \(RunService.supersededTag)"
    }

    public static let supersededTag = "expt-superseded"
}
