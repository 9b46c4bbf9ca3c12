import Foundation
import ExptModel

/// A message of the Run:ai scheduler (NVIDIA KAI-Scheduler): why a workload waits, or why its pod
/// was taken away. Formats from KAI-Scheduler `pkg/scheduler/api/unschedule_info.go` (NVIDIA/KAI-Scheduler
/// @ baf92b5d); they reach users as pod events (`Unschedulable` / `Evict` from kai-scheduler, the
/// reason `NonPreemptibleOverQuota` before the text), pod conditions and Run:ai's describe output.
public enum RunAISchedulerMessage: Sendable, Equatable {
    /// `Non-preemptible workload is over quota. Workload requested 2 GPUs, but team-a quota is 1
    /// GPUs, while 1 GPUs are already allocated for non-preemptible pods. Use a preemptible
    /// workload to go over quota.` (also "CPU cores" and "GB memory"). `requested` and `quota` are
    /// the numbers when they could be read.
    case overQuota(resource: String, requested: Double?, quota: Double?)
    /// `team-a quota has reached the allowable limit of GPUs. Limit is 4 GPUs, currently 4 GPUs
    /// allocated and workload requested 1 GPUs`.
    case overLimit(resource: String, requested: Double?, limit: Double?)
    /// `Pod ns/p was preempted by higher priority workload ns/w`.
    case preempted(by: String?)
    /// `Pod ns/p was preempted by workload ns/w.`: over-quota resources taken back for another queue.
    case reclaimed(by: String?)
    /// `Pod ns/p was preempted and rescheduled due to bin packing (resource consolidation) procedure`.
    case consolidated
    /// `Workload doesn't have the minimum required number of pods (2), evicting remaining pod: ns/p`.
    case gangEvicted(minimum: Int?)

    /// Normal waiting for the project's quota (other workloads must end first).
    public var isWaitingForQuota: Bool {
        switch self { case .overQuota, .overLimit: return true; default: return false }
    }
    /// The workload lost its pods to the scheduler: never its own fault.
    public var isPreemption: Bool {
        switch self { case .preempted, .reclaimed, .consolidated, .gangEvicted: return true; default: return false }
    }
    /// What to do, in a sentence.
    public var advice: String {
        switch self {
        case .overQuota(let r, let requested, let quota):
            let never = (requested ?? 0) > (quota ?? .infinity) ? " It asks for more \(r) than the whole quota, so as a non-preemptible workload it can never start." : ""
            return "The project's quota for non-preemptible work is used up: the workload waits until other non-preemptible work ends.\(never) "
                + "A preemptible workload may use GPUs over quota (it can be preempted): set preemptible = true in [runai]."
        case .overLimit(let r, let requested, let limit):
            let never = (requested ?? 0) > (limit ?? .infinity) ? " It asks for more \(r) than the limit itself, so it can never start: ask for less." : ""
            return "The project has reached its limit of \(r): the workload waits until the project's other workloads free some.\(never)"
        case .preempted: return "A higher-priority workload took its resources; Run:ai runs it again when they are free (resume from a checkpoint)."
        case .reclaimed: return "Its over-quota resources were reclaimed for another project; Run:ai runs it again when they are free."
        case .consolidated: return "The scheduler moved it to pack GPUs tighter; it is rescheduled."
        case .gangEvicted: return "Too few of its pods could run together, so the rest were evicted; it is rescheduled when all fit."
        }
    }
}

public enum RunAIMessages {
    /// The scheduler message in `text`, if it holds one.
    public static func classify(_ text: String) -> RunAISchedulerMessage? {
        if text.contains("Non-preemptible workload is over quota") || text.contains("NonPreemptibleOverQuota") {
            return .overQuota(resource: resource(text, after: "Workload requested "), requested: number(text, after: "Workload requested "),
                              quota: number(text, after: "quota is "))
        }
        if let r = text.range(of: "quota has reached the allowable limit of ") {
            let what = String(text[r.upperBound...].prefix { $0 != "." })
            return .overLimit(resource: what.isEmpty ? "resources" : what, requested: number(text, after: "workload requested "),
                              limit: number(text, after: "Limit is "))
        }
        if text.contains("was preempted and rescheduled due to bin packing") { return .consolidated }
        if text.contains("was preempted by higher priority workload") {
            return .preempted(by: word(text, after: "was preempted by higher priority workload "))
        }
        if text.contains("was preempted by workload") { return .reclaimed(by: word(text, after: "was preempted by workload ")) }
        // the source says "doesn't have the minimum required number of pods"; older texts "meet"
        if text.contains("minimum required number of pods") {
            return .gangEvicted(minimum: number(text, after: "number of pods (").map { Int($0) })
        }
        return nil
    }

    /// The first scheduler message among `texts`, with its text.
    public static func first(in texts: [String]) -> (message: RunAISchedulerMessage, text: String)? {
        for t in texts { if let m = classify(t) { return (m, t) } }
        return nil
    }

    /// What a pending Run:ai workload's reason means: waiting for quota is normal waiting (the
    /// advice says how to go over quota); a request larger than the quota or limit itself, or a
    /// cluster with no node of the kind asked for, cannot start as submitted.
    public static func pendingVerdict(reason: String?) -> PendingVerdict {
        guard let reason else { return .waiting }
        switch classify(reason) {
        case .some(.overQuota(_, let requested?, let quota?)) where requested > quota:
            return .blocked("the workload asks for more than the project's whole quota as a non-preemptible workload; submit it as preemptible")
        case .some(.overLimit(_, let requested?, let limit?)) where requested > limit:
            return .blocked("the workload asks for more than the project's limit; ask for less")
        default: break
        }
        if reason.contains("No node in the") && reason.contains("has GPU resources") {
            return .blocked("no node of the node pool has GPUs: \(reason)")
        }
        return .waiting
    }

    static func number(_ text: String, after marker: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits.hasSuffix(".") ? String(digits.dropLast()) : String(digits))
    }

    /// "2 GPUs" → "GPUs", "4 CPU cores" → "CPU cores", "16 GB memory" → "GB memory".
    static func resource(_ text: String, after marker: String) -> String {
        guard let r = text.range(of: marker) else { return "resources" }
        let rest = text[r.upperBound...].drop { $0.isNumber || $0 == "." }.drop { $0 == " " }
        for unit in ["GPUs", "CPU cores", "GB memory"] where rest.hasPrefix(unit) { return unit }
        return "resources"
    }

    static func word(_ text: String, after marker: String) -> String? {
        guard let r = text.range(of: marker) else { return nil }
        let w = text[r.upperBound...].prefix { !$0.isWhitespace }
        let trimmed = w.hasSuffix(".") ? w.dropLast() : w[...]
        return trimmed.isEmpty ? nil : String(trimmed)
    }
}

/// Run:ai statuses onto expt's states. v2 workload phases (CLI-FACTS §4, Run:ai API `phase`):
/// Creating, Pending, Initializing, Resuming, Running, Degraded, Updating, Completed, Failed,
/// Stopped, Stopping, Deleting, Terminating, Unknown; v1 and pod-derived statuses are read too
/// (Succeeded, TimedOut, Preempted, Fail, Error, OOMKilled, ErrImagePull, ImagePullBackOff, …).
/// A status this table does not know keeps the run watched (running); the raw status is kept.
public enum RunAIStatus {
    public static func jobState(status: String, messages: [String] = []) -> JobState {
        let scheduler = RunAIMessages.first(in: messages)?.message
        let base = table(status)
        // preempted training goes back to Pending and runs again by itself: not an end
        if base.isTerminal, base != .succeeded, scheduler?.isPreemption == true { return .preempted }
        if base == .failed, messages.contains(where: { $0.contains("OOMKilled") }) { return .oom }
        return base
    }

    static func table(_ status: String) -> JobState {
        switch status.trimmingCharacters(in: .whitespaces).lowercased() {
        case "creating", "pending", "initializing", "resuming", "containercreating", "preempted", "queued": return .pending
        case "running", "degraded", "updating", "error", "crashloopbackoff", "notready": return .running
        case "completed", "succeeded": return .succeeded
        case "failed", "fail": return .failed
        case "oomkilled": return .oom
        case "timedout", "timeout": return .timeout
        case "errimagepull", "imagepullbackoff", "createcontainerconfigerror", "containercannotrun", "invalidimagename": return .failed
        case "stopped", "stopping", "deleting", "deleted", "terminating", "suspended": return .cancelled
        default: return .running
        }
    }
}
