import Foundation
import ExptModel
import ExptDiagnosis

/// A run's tracker run as `status`, `runs` and `report` show it.
public struct TrackerView: Codable, Sendable, Equatable {
    public var tracker: String
    public var id: String
    public var url: String?
    /// The tracker's state; nil when only run directories were read.
    public var state: String?
    /// "api" or "files".
    public var source: String
    public var heartbeatAt: Date?
    public var sweep: String?
    public var directories: [String]
}

/// What the tracker and the log say about a set of runs, read once per command.
public struct TrackingReport: Sendable {
    public var trackers: [String: TrackerView] = [:]
    public var progress: [String: ProgressReport] = [:]
    public var discrepancies: [String: [Discrepancy]] = [:]
    /// Why the tracker's service was not asked (said once by the command).
    public var notices: [String] = []
}

extension RunService {
    /// The tracker of the experiment in `worktree` (`[wandb]` of its expt.toml), nil without one.
    public func tracker(worktree: String?) throws -> RunTracker? {
        if let t = trackers[worktree ?? ""] { return t }
        guard let settings = try config(worktree: worktree).tracker, let make = trackerFactory else { return nil }
        let t = make(settings, worktree)
        trackers[worktree ?? ""] = t
        return t
    }

    /// The tracker of `run`'s experiment, and its tracker run id (from the variables it was
    /// launched with), when it has one.
    func trackerOf(_ run: RunRecord) -> (RunTracker, String)? {
        guard let id = run.trackerRunID, let t = try? tracker(worktree: existingWorktree(run.branch)) else { return nil }
        return (t, id)
    }

    /// The tracker's variables for a new run of `branch`: a resumed run (`resumeOf`) keeps the
    /// tracker run of the run it resumes, so one W&B run continues instead of a new one.
    /// Reads the ledger: call it before a ledger transaction (a launch's `makeSpec` runs inside
    /// one), then fill in the run id.
    func trackerLink(branch: String, resumeOf parent: String?) -> TrackerLink {
        // No ledger yet: no runs to continue, and a dry run must not create one.
        guard FileManager.default.fileExists(atPath: ws.stateDir + "/" + Ledger.fileName) else {
            return TrackerLink(runID: "", branch: branch, attempt: 1)
        }
        let continuing = parent.flatMap { try? ledger().run(id: $0) }?.spec?.environment["WANDB_RUN_ID"]
        let attempt = ((try? ledger().runs(branch: branch).count) ?? 0) + 1
        return TrackerLink(runID: "", branch: branch, attempt: attempt, continuing: continuing)
    }

    func trackerEnvironment(_ tracker: RunTracker?, runID: String, branch: String, resumeOf parent: String?) -> [String: String] {
        guard let tracker else { return [:] }
        var link = trackerLink(branch: branch, resumeOf: parent)
        link.runID = runID
        return tracker.environment(link)
    }

    /// Reconciles `records` with their tracker and their logs: ONE tracker call for all of them
    /// (per tracker settings), one tail read per run.
    public func tracking(_ records: [RunRecord]) -> TrackingReport {
        var report = TrackingReport()
        var groups: [(tracker: RunTracker, items: [(RunRecord, TrackedRun)])] = []
        for r in records {
            guard let (t, id) = trackerOf(r) else { continue }
            let wt = existingWorktree(r.branch) ?? r.spec?.workdir ?? ws.worktreePath(for: r.branch)
            let cfg = try? config(worktree: existingWorktree(r.branch))
            var dirs = [wt + "/" + (cfg?.wandbDir ?? "wandb")]
            if let d = r.spec?.environment["WANDB_DIR"] { dirs.append((d.hasPrefix("/") ? d : wt + "/" + d) + "/wandb") }
            // The service is asked about live runs and those that ended in the last week
            // (a zombie is a run the tracker still thinks live).
            let recent = r.endedAt.map { now().timeIntervalSince($0) < 7 * 86400 } ?? true
            let item = TrackedRun(trackerID: id, searchDirs: dirs, online: recent)
            if let i = groups.firstIndex(where: { $0.tracker.identity == t.identity }) {
                groups[i].items.append((r, item))
            } else { groups.append((t, [(r, item)])) }
        }
        // A W&B run continued by a later run (a resume keeps the id) is that run's now: its
        // state says nothing about the earlier job, which would otherwise look like a zombie.
        // One ledger read per branch with tracked runs, not per run.
        var continued: Set<String> = []
        var branchRuns: [String: [RunRecord]] = [:]
        for r in records {
            guard let id = r.trackerRunID else { continue }
            if branchRuns[r.branch] == nil { branchRuns[r.branch] = (try? ledger().runs(branch: r.branch)) ?? [] }
            if branchRuns[r.branch]!.contains(where: { $0.seq > r.seq && $0.trackerRunID == id }) { continued.insert(r.id) }
        }
        var snapshots: [String: TrackerRun] = [:]
        for g in groups {
            let s = g.tracker.fetch(g.items.map(\.1))
            if let n = s.notice, !report.notices.contains(n) { report.notices.append(n) }
            for (r, item) in g.items {
                if let run = s.runs[item.trackerID], !continued.contains(r.id) { snapshots[r.id] = run }
                if let e = s.errors[item.trackerID], !report.notices.contains("W&B: \(e)") { report.notices.append("W&B: \(e)") }
                let run = s.runs[item.trackerID]
                report.trackers[r.id] = TrackerView(tracker: g.tracker.name, id: item.trackerID,
                                                    url: run?.url ?? g.tracker.url(runID: item.trackerID),
                                                    state: continued.contains(r.id) ? nil : run?.state,
                                                    source: run?.source.rawValue ?? "files", heartbeatAt: run?.heartbeatAt,
                                                    sweep: run?.sweep, directories: run?.directories ?? [])
            }
        }
        // A finished run's tail is read once and cached; live runs are read every time.
        let cached = records.contains { $0.state.isTerminal } ? ((try? ledger().outputTails()) ?? [:]) : [:]
        var newlyCached: [String: String] = [:]
        for r in records {
            var tail: OutputTail
            if r.state.isTerminal, let known = cached[r.id].flatMap(OutputTail.init(encoded:)) {
                tail = known
            } else {
                tail = outputTail(r)
                if r.state.isTerminal { newlyCached[r.id] = tail.encoded }
            }
            let cfg = (try? config(worktree: existingWorktree(r.branch)))?.run ?? RunFactsConfig()
            let progress = r.tasks.isEmpty ? ProgressReport.make(tracker: snapshots[r.id], log: tail.progress, config: cfg) : nil
            if let progress { report.progress[r.id] = progress }
            let found = Reconciler.discrepancies(run: r, tracker: snapshots[r.id], progress: progress,
                                                 lastOutputAt: tail.modified, lastLine: tail.lastLine, config: cfg, now: now())
            if !found.isEmpty { report.discrepancies[r.id] = found }
        }
        // Not fatal: a failed write only means reading these logs again next time.
        try? ledger().cacheOutputTails(newlyCached)
        return report
    }

    /// The end of a run's stdout: its progress, its last line and when it was last written
    /// (local files only: a remote one is read while the run runs, its time is not known).
    func outputTail(_ run: RunRecord) -> OutputTail {
        guard let sources = try? outputSources(run, task: nil),
              let out = sources.first(where: { $0.kind == .stdout || $0.kind == .combined }),
              !out.remote || run.state == .running,
              let chunk = try? read(run, out, .tail(bytes: 64 << 10)) else { return OutputTail(progress: nil, lastLine: nil, modified: nil) }
        var modified: Date?
        if !out.remote {
            let all = sources.filter { !$0.remote }.compactMap { (try? FileManager.default.attributesOfItem(atPath: $0.path))?[.modificationDate] as? Date }
            modified = all.max()
        }
        let text = String(decoding: chunk.tail ?? chunk.head, as: UTF8.self)
        let last = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return OutputTail(progress: ExptDiagnosis.Progress.read(chunk), lastLine: last.map { Redactor.redact(String($0.prefix(300))) },
                          modified: modified)
    }
}
