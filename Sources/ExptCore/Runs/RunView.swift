import Foundation
import ExptModel
import ExptDiagnosis

/// A run as `status`, `runs` and `launch` print it (JSON keys are the snake_case of these).
public struct RunView: Codable, Sendable {
    public var run: String
    public var branch: String
    public var attempt: Int
    public var parentRun: String?
    public var backend: String
    public var jobId: String?
    public var state: String
    public var reason: String?
    public var rawState: String?
    public var exitCode: Int32?
    public var signal: Int32?
    public var commit: String
    public var profile: String?
    public var submittedAt: Date?
    public var startedAt: Date?
    public var endedAt: Date?
    public var elapsedSeconds: Int?
    public var maxRssMb: Int?
    public var progress: String?
    public var diagnosis: String?
    public var logDir: String?
    public var tasks: [TaskStatus]
    /// For an array with failed tasks: failures by category and a verdict.
    public var batch: BatchHealthReport?
    /// The run's tracker run (W&B): its link and what the tracker says.
    public var wandb: TrackerView?
    /// Epoch, step, % complete and loss trend, from the tracker or the log.
    public var progressDetail: ProgressReport?
    /// Where the tracker, the scheduler and the log disagree (zombie, incomplete, stalled, …).
    public var discrepancies: [Discrepancy] = []

    public init(_ r: RunRecord, now: Date, progress: String? = nil) {
        run = r.id; branch = r.branch; attempt = r.attempt; parentRun = r.parentRun; backend = r.backend
        jobId = r.jobID; state = r.state.rawValue; reason = r.reason; rawState = r.rawState
        exitCode = r.exitCode; signal = r.signal; commit = r.commit; profile = r.profile
        submittedAt = r.submittedAt; startedAt = r.startedAt; endedAt = r.endedAt
        if let s = r.startedAt ?? r.submittedAt { elapsedSeconds = max(0, Int((r.endedAt ?? now).timeIntervalSince(s))) }
        maxRssMb = r.maxRSSMB; diagnosis = r.diagnosis; logDir = r.logDir; tasks = r.tasks
        // An array's or workflow's progress is its items; a single job's, what its output says.
        self.progress = r.tasks.isEmpty ? progress : RunView.itemProgress(r.tasks)
    }

    /// "pending (Priority)", "failed (exit 1)", "oom", ...
    /// "183/186 items done, 3 failed, 1 stuck".
    static func itemProgress(_ tasks: [TaskStatus]) -> String {
        let done = tasks.filter { $0.state == .succeeded }.count
        let failed = tasks.filter { $0.state.isFailure && $0.state != .stalled }.count
        let stuck = tasks.filter { $0.state == .stalled }.count
        return "\(done)/\(tasks.count) items done" + (failed > 0 ? ", \(failed) failed" : "") + (stuck > 0 ? ", \(stuck) stuck" : "")
    }

    public var stateText: String {
        var s = state
        if let reason, !reason.isEmpty, ["pending", "lost", "submitting", "stalled"].contains(state) { s += " (\(reason))" }
        else if state == "failed", let exitCode { s += " (exit \(exitCode)\(signal.map { ", signal \($0)" } ?? ""))" }
        if let diagnosis, JobState(rawValue: state)?.isFailure == true { s += " [\(diagnosis)]" }
        return s
    }
}


