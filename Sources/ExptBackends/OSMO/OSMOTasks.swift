import Foundation
import ExptModel

/// A task of a workflow as expt reports it: its latest attempt and what came before.
public struct OSMOTaskView: Sendable, Equatable {
    /// The position in the stable order (`OSMOTasks.views(of:order:)`), the `TaskStatus.index`.
    public var index: Int
    /// The latest attempt (highest `retryID`).
    public var task: OSMOTask
    /// Attempts seen (1 without `--verbose`).
    public var attempts: Int
    /// Earlier attempts that were preempted (FAILED_PREEMPTED, or RESCHEDULED with code 3006):
    /// they do not count against a failure budget.
    public var preemptions: Int
    public var state: JobState
    /// `OSMOStatus.category` of the latest attempt; nil while it runs or when only logs can tell.
    public var category: String?
    /// The attempt that made the workflow fail (`OSMOTasks.rootCause`).
    public var isRootCause: Bool

    public var name: String { task.name }

    /// The backend boundary's view; the message keeps the task name, group and retry, so a
    /// diagnosis and a person can tell which task it was.
    public var taskStatus: TaskStatus {
        TaskStatus(index: index, state: state, rawState: task.status, exitCode: task.exitCode.map { Int32(clamping: $0) },
                   message: OSMOTasks.describe(task, rootCause: isRootCause))
    }
}

/// Views over a queried workflow's tasks.
public enum OSMOTasks {
    /// The latest attempt of every task, by task name (names are unique in a workflow).
    public static func latest(of workflow: OSMOWorkflow) -> [String: OSMOTask] {
        var out: [String: OSMOTask] = [:]
        for t in workflow.allTasks where (out[t.name]?.retryID ?? -1) < t.retryID { out[t.name] = t }
        return out
    }

    /// The tasks in a stable order: the names of `order` first, in that order (the previous
    /// poll's, or the parent workflow's for a restart, which holds only the failed groups), then
    /// every other name alphabetically. Names of `order` the workflow does not have keep their
    /// index (a restart keeps the indices of its parent), so indices never move.
    public static func views(of workflow: OSMOWorkflow, order: [String] = []) -> [OSMOTaskView] {
        let newest = Self.latest(of: workflow)
        var indices: [String: Int] = [:]
        for name in order where indices[name] == nil { indices[name] = indices.count }
        for name in newest.keys.sorted() where indices[name] == nil { indices[name] = indices.count }
        let cause = rootCause(of: workflow)
        var preempted: [String: Int] = [:]
        for t in workflow.allTasks where t.retryID < (newest[t.name]?.retryID ?? 0)
            && (t.status == "FAILED_PREEMPTED" || t.exitCode == 3006) {
            preempted[t.name, default: 0] += 1
        }
        let attempts = Dictionary(grouping: workflow.allTasks, by: \.name).mapValues { Set($0.map(\.retryID)).count }
        return newest.values.map { t in
            OSMOTaskView(index: indices[t.name] ?? 0, task: t, attempts: attempts[t.name] ?? 1,
                         preemptions: preempted[t.name] ?? 0,
                         state: OSMOStatus.jobState(taskStatus: t.status, exitCode: t.exitCode, message: t.failureMessage),
                         category: OSMOStatus.isFailed(t.status) || t.status == "COMPLETED"
                            ? OSMOStatus.category(status: t.status, exitCode: t.exitCode, message: t.failureMessage) : nil,
                         isRootCause: cause.map { $0.name == t.name && $0.retryID == t.retryID } ?? false)
        }.sorted { $0.index < $1.index }
    }

    /// `views(...)` as the backend boundary's task statuses.
    public static func taskStatuses(of workflow: OSMOWorkflow, order: [String] = []) -> [TaskStatus] {
        views(of: workflow, order: order).map(\.taskStatus)
    }

    /// The task (latest attempt) that made the workflow fail: among failed tasks that are not
    /// consequences (FAILED_UPSTREAM: an upstream group failed; FAILED_CANCELED; a sibling
    /// stopped because its group's lead or another task ended: `Lead task finished`,
    /// `Task X Failed.`, src/utils/job/jobs.py), the highest exit code wins (OSMO's own rule for
    /// a task's codes, exit_codes.rst); ties go to the lead, then the name. Falls back to any
    /// failed task when all are consequences. Nil when nothing failed.
    public static func rootCause(of workflow: OSMOWorkflow) -> OSMOTask? {
        let failed = Self.latest(of: workflow).values.filter { OSMOStatus.isFailed($0.status) }
        let primary = failed.filter { !isConsequence($0) }
        return (primary.isEmpty ? failed : primary).max { a, b in
            let x = a.exitCode ?? -1, y = b.exitCode ?? -1
            if x != y { return x < y }
            if a.lead != b.lead { return !a.lead }
            return a.name > b.name
        }
    }

    /// The workflow's exit code: the root cause's.
    public static func exitCode(of workflow: OSMOWorkflow) -> Int? { rootCause(of: workflow)?.exitCode }

    static func isConsequence(_ t: OSMOTask) -> Bool {
        if t.status == "FAILED_UPSTREAM" || t.status == "FAILED_CANCELED" || t.exitCode == 3000 { return true }
        guard t.status == "FAILED", let m = t.failureMessage?.trimmingCharacters(in: .whitespacesAndNewlines) else { return false }
        return m == "Lead task finished" || m == "Upstream task failed."
            || (m.hasPrefix("Task ") && m.hasSuffix(" Failed.") && !m.contains("\n"))
    }

    /// `train (group train-group, retry 1): FAILED_EVICTED, exit 3004 (evicted (OOMKilled, or
    /// node pressure)): Failure reason: - Exit code 137 due to Task train failure.`
    static func describe(_ t: OSMOTask, rootCause: Bool) -> String {
        var head = t.name
        var context: [String] = []
        if !t.group.isEmpty && t.group != t.name { context.append("group \(t.group)") }
        if t.retryID > 0 { context.append("retry \(t.retryID)") }
        if !context.isEmpty { head += " (" + context.joined(separator: ", ") + ")" }
        var text = "\(head): \(t.status)"
        if let code = t.exitCode { text += ", exit \(code) (\(OSMOExitCode.meaning(code)))" }
        if t.status == "FAILED_UPSTREAM" { text += "; not a root cause: an upstream group failed" }
        else if t.status == "FAILED" && isConsequence(t) { text += "; not a root cause: stopped because another task of its group ended" }
        if rootCause { text += "; root cause" }
        if let m = t.failureMessage?.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) })
            .filter({ !$0.isEmpty }).joined(separator: " "), !m.isEmpty {
            text += ": " + m
        }
        return text
    }
}
