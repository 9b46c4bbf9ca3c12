import Foundation
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

    public init(_ r: RunRecord, now: Date, progress: String? = nil) {
        run = r.id; branch = r.branch; attempt = r.attempt; parentRun = r.parentRun; backend = r.backend
        jobId = r.jobID; state = r.state.rawValue; reason = r.reason; rawState = r.rawState
        exitCode = r.exitCode; signal = r.signal; commit = r.commit; profile = r.profile
        submittedAt = r.submittedAt; startedAt = r.startedAt; endedAt = r.endedAt
        if let s = r.startedAt ?? r.submittedAt { elapsedSeconds = max(0, Int((r.endedAt ?? now).timeIntervalSince(s))) }
        maxRssMb = r.maxRSSMB; self.progress = progress; diagnosis = r.diagnosis; logDir = r.logDir; tasks = r.tasks
    }

    enum CodingKeys: String, CodingKey {
        case run, branch, attempt, parentRun, backend, jobId, state, reason, rawState, exitCode, signal, commit, profile
        case submittedAt, startedAt, endedAt, elapsedSeconds, maxRssMb, progress, diagnosis, logDir, tasks, batch
    }

    /// Every key is always present (null when unknown), so scripts can rely on the shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run, forKey: .run); try c.encode(branch, forKey: .branch); try c.encode(attempt, forKey: .attempt)
        try c.encode(parentRun, forKey: .parentRun); try c.encode(backend, forKey: .backend); try c.encode(jobId, forKey: .jobId)
        try c.encode(state, forKey: .state); try c.encode(reason, forKey: .reason); try c.encode(rawState, forKey: .rawState)
        try c.encode(exitCode, forKey: .exitCode); try c.encode(signal, forKey: .signal); try c.encode(commit, forKey: .commit)
        try c.encode(profile, forKey: .profile); try c.encode(submittedAt, forKey: .submittedAt)
        try c.encode(startedAt, forKey: .startedAt); try c.encode(endedAt, forKey: .endedAt)
        try c.encode(elapsedSeconds, forKey: .elapsedSeconds); try c.encode(maxRssMb, forKey: .maxRssMb)
        try c.encode(progress, forKey: .progress); try c.encode(diagnosis, forKey: .diagnosis); try c.encode(logDir, forKey: .logDir)
        try c.encode(tasks, forKey: .tasks); try c.encode(batch, forKey: .batch)
    }

    /// "pending (Priority)", "failed (exit 1)", "oom", ...
    public var stateText: String {
        var s = state
        if let reason, !reason.isEmpty, state == "pending" || state == "lost" || state == "submitting" { s += " (\(reason))" }
        else if state == "failed", let exitCode { s += " (exit \(exitCode)\(signal.map { ", signal \($0)" } ?? ""))" }
        if let diagnosis, JobState(rawValue: state)?.isFailure == true { s += " [\(diagnosis)]" }
        return s
    }
}

/// Elapsed times as people read them: 45s, 12m03s, 3h07m, 2d04h.
public func humanDuration(_ s: Int) -> String {
    if s < 60 { return "\(s)s" }
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    if s < 86400 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    return String(format: "%dd%02dh", s / 86400, (s % 86400) / 3600)
}
