import Foundation
import ExptModel

/// Indexed Jobs: the compressed index lists of `status.completedIndexes` / `failedIndexes`, and
/// the state of each index (an item of the run) and of the Job, from the Job's status and the
/// facts of each index's latest pod.
///
/// Rules (docs/backends/kubernetes.md, backends research §2):
/// - an index in `completedIndexes` succeeded; one in `failedIndexes` used up its retries (or hit
///   a `FailIndex` rule): its latest pod says why (OOMKilled → oom, DeadlineExceeded → timeout);
/// - a pod with the `DisruptionTarget` condition was preempted or evicted: never the item's
///   fault. While the Job lives the index is pending (the `Ignore` rule makes the Job start it
///   again, not counted against its retries); once the Job has ended it is `preempted`;
/// - a pod that cannot start as submitted (ErrImagePull, ImagePullBackOff, InvalidImageName,
///   CreateContainerConfigError, CreateContainerError, a FailedMount event) fails its index at
///   once, with the reason in the message: waiting does not fix it;
/// - CrashLoopBackOff: the container's last exit decides (OOMKilled → oom, else failed);
/// - a pod Pending / PodInitializing / ContainerCreating longer than `stuckAfter` is `stalled`,
///   with `PodFacts.stuckDescription` as the message, except when the Run:ai scheduler says the
///   workload waits for quota (`RunAIMessages`): that is normal waiting (pending).
public enum KubeIndexes {
    /// "1,3-5,7" → [1, 3, 4, 5, 7]; "" → []. Order is kept (an `expt.items` list is in index
    /// order); nil when malformed (text, a negative, a range that runs backwards).
    public static func parse(_ text: String) -> [Int]? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return [] }
        var out: [Int] = []
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if bounds.count == 1, let i = Int(bounds[0]), i >= 0 { out.append(i) }
            else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a >= 0, a <= b, b - a < 10_000_000 {
                out.append(contentsOf: a...b)
            } else { return nil }
        }
        return out
    }

    /// The inverse of `parse`, as Kubernetes writes it: three or more consecutive numbers become
    /// `first-last` ([1, 3, 4, 5, 7] → "1,3-5,7"; [5, 6] → "5,6").
    public static func format(_ items: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < items.count {
            var j = i
            while j + 1 < items.count, items[j + 1] == items[j] + 1 { j += 1 }
            if j - i >= 2 { parts.append("\(items[i])-\(items[j])"); i = j + 1 } else { parts.append(String(items[i])); i += 1 }
        }
        return parts.joined(separator: ",")
    }

    /// One task per completion index, by the item it runs (`KubeJob.item(ofIndex:)`), in index order.
    /// `pods` is `KubeList.pods(of:)`; `container` is the container the command runs in.
    public static func tasks(job: KubeJob, pods: [Int: [PodFacts]], now: Date, stuckAfter: TimeInterval,
                             container: String = "main") -> [TaskStatus] {
        (0..<max(job.indexCount, 0)).map { i -> TaskStatus in
            var t = task(index: i, job: job, pods: pods[i] ?? [], now: now, stuckAfter: stuckAfter, container: container)
            t.index = job.item(ofIndex: i)
            return t
        }
    }

    /// The Job as the backend boundary sees it, with its tasks.
    public static func jobStatus(ref: JobRef, job: KubeJob, pods: [Int: [PodFacts]], now: Date, stuckAfter: TimeInterval,
                                 container: String = "main") -> JobStatus {
        let tasks = Self.tasks(job: job, pods: pods, now: now, stuckAfter: stuckAfter, container: container)
        let failed = job.condition("Failed")
        let state: JobState, raw: String
        var note: String?
        if job.condition("Complete") != nil {
            state = .succeeded; raw = "Complete"
        } else if let failed {
            raw = "Failed"
            note = [failed.reason, failed.message].compactMap { $0 }.joined(separator: ": ")
            let failures = tasks.filter { $0.state.isFailure }
            if failed.reason == "DeadlineExceeded" { state = .timeout }
            // every failed item ran out of memory (or of time): the run did, so the remedy fits all
            else if let one = failures.first?.state, [.oom, .timeout].contains(one), failures.allSatisfy({ $0.state == one }) { state = one }
            else { state = .failed }
        } else if let c = job.condition("FailureTarget") ?? job.condition("SuccessCriteriaMet") {
            // decided, but pods are still terminating: Failed / Complete follows; do not act yet
            state = .running; raw = c.type
            note = [c.reason, c.message].compactMap { $0 }.joined(separator: ": ")
        } else if job.suspend || job.condition("Suspended") != nil {
            state = .pending; raw = "Suspended"
        } else if !tasks.contains(where: { $0.state == .running || $0.state == .pending }),
                  tasks.contains(where: { $0.state == .stalled || blockingReasons.contains($0.rawState) || $0.rawState == "FailedMount" }) {
            // every index not done is stuck or cannot start, yet the Job lives: it will not end by itself
            state = .stalled; raw = "Stalled"
        } else if !tasks.isEmpty, tasks.allSatisfy({ $0.state == .pending }) {
            state = .pending; raw = "Pending"
        } else {
            state = .running; raw = "Running"
        }
        let done = tasks.filter { $0.state == .succeeded }.count
        let ended = job.completionTime ?? failed?.lastTransitionTime
        return JobStatus(ref: ref, state: state, rawState: raw,
                         reason: "\(done)/\(tasks.count) items done" + (note.map { $0.isEmpty ? "" : "; \($0)" } ?? ""),
                         exitCode: tasks.count == 1 ? tasks[0].exitCode : nil, startedAt: job.startTime, endedAt: ended,
                         elapsedSeconds: job.startTime.map { Int(((state.isTerminal ? ended : nil) ?? now).timeIntervalSince($0)) },
                         timeLimitSeconds: job.activeDeadlineSeconds, tasks: tasks)
    }

    // MARK: one index

    static func task(index i: Int, job: KubeJob, pods: [PodFacts], now: Date, stuckAfter: TimeInterval, container: String) -> TaskStatus {
        func make(_ state: JobState, _ raw: String, _ message: String? = nil, _ exit: Int32? = nil) -> TaskStatus {
            TaskStatus(index: i, state: state, rawState: raw, exitCode: exit, message: message)
        }
        if job.completedIndexes.contains(i) { return make(.succeeded, "Succeeded", nil, 0) }
        let latest = pods.last
        let earlier = pods.dropLast().filter { $0.disruption != nil }.count
        let preemptedBefore = earlier > 0 ? "preempted \(earlier) time(s) before (not counted against its retries)" : nil
        if job.failedIndexes?.contains(i) == true {
            if let latest, let o = outcome(latest, container: container) { return o.task(i) }
            return make(.failed, "Failed", "index \(i) failed (its pods are gone)")
        }
        if job.isFinished {
            if let failed = job.condition("Failed"), failed.reason == "DeadlineExceeded" {
                return make(.timeout, "DeadlineExceeded", failed.message ?? "the Job ran longer than its activeDeadlineSeconds")
            }
            if let latest, let o = outcome(latest, container: container), o.state.isFailure { return o.task(i) }
            let why = job.condition("Failed").map { "the Job failed (\([$0.reason, $0.message].compactMap { $0 }.joined(separator: ": ")))" }
                ?? "the Job completed without it"
            return make(.cancelled, "NotRun", "not run: \(why)")
        }
        guard let pod = latest else { return make(.pending, "NotStarted", preemptedBefore) }
        if let d = pod.disruption {
            return make(.pending, "Preempted", "preempted (DisruptionTarget: \(d)); the Job starts this index again, not counted against its retries")
        }
        if let b = blocker(pod) { return b.task(i) }
        if pod.waiting?.waitingReason == "CrashLoopBackOff", var o = outcome(pod, container: container) {
            o.message = "CrashLoopBackOff; last exit: " + (o.message ?? "?")
            return o.task(i)
        }
        if pod.phase == "Failed", var o = outcome(pod, container: container) {
            // not in failedIndexes: the Job starts another pod for this index
            let limit = job.backoffLimitPerIndex.map { " of \($0 + 1) allowed" } ?? ""
            o.message = "attempt failed: \(o.message ?? o.raw); the Job retries this index (failures so far: \(pod.indexFailureCount + 1)\(limit))"
            return TaskStatus(index: i, state: .running, rawState: "Retrying", exitCode: o.exit, message: o.message)
        }
        if let u = pod.unscheduledMessage, RunAIMessages.classify(u)?.isWaitingForQuota == true {
            // normal waiting however long it takes: other work must end first
            return make(.pending, "Unschedulable", "waiting for quota: PodScheduled=False: \(u)")
        }
        if let stuck = pod.stuckDescription(now: now, threshold: stuckAfter) {
            let scheduler = pod.unscheduledMessage.map { "; PodScheduled=False: \($0)" } ?? ""
            return make(.stalled, pod.waiting?.waitingReason ?? "Pending", stuck + scheduler)
        }
        switch pod.phase {
        case "Pending": return make(.pending, pod.waiting?.waitingReason ?? "Pending", [pod.unscheduledMessage, preemptedBefore].compactMap { $0 }.first)
        case "Succeeded": return make(.succeeded, "Succeeded", nil, 0)     // the Job's status lags behind its pod
        default: return make(.running, pod.phase ?? "Running", preemptedBefore)
        }
    }

    /// How a pod that ended (or keeps crashing) ended.
    struct Outcome {
        var state: JobState
        var raw: String
        var message: String?
        var exit: Int32?
        func task(_ i: Int) -> TaskStatus { TaskStatus(index: i, state: state, rawState: raw, exitCode: exit, message: message) }
    }

    static func outcome(_ pod: PodFacts, container: String) -> Outcome? {
        if let d = pod.disruption { return Outcome(state: .preempted, raw: "DisruptionTarget", message: "preempted (DisruptionTarget: \(d))") }
        if pod.reason == "DeadlineExceeded" {
            return Outcome(state: .timeout, raw: "DeadlineExceeded", message: "DeadlineExceeded: " + (pod.message ?? "the pod ran longer than its activeDeadlineSeconds"))
        }
        let t = pod.termination(main: container)
        let exit = t?.exitCode
        let text = t.map { "\($0.name): \($0.terminatedReason ?? "Error") (exit code \($0.exitCode.map(String.init) ?? "?"))" }
        switch t?.terminatedReason {
        case "OOMKilled": return Outcome(state: .oom, raw: "OOMKilled", message: text, exit: exit)
        case "ContainerStatusUnknown": return Outcome(state: .nodeFail, raw: "ContainerStatusUnknown", message: text, exit: exit)
        default: break
        }
        if pod.reason == "Evicted" { return Outcome(state: .failed, raw: "Evicted", message: "Evicted: " + (pod.message ?? ""), exit: exit) }
        if let t, t.exitCode != 0 || pod.phase == "Failed" {
            return Outcome(state: .failed, raw: t.terminatedReason ?? "Error", message: text, exit: exit)
        }
        guard pod.phase == "Failed" else { return nil }
        return Outcome(state: .failed, raw: pod.reason ?? "Failed", message: pod.message ?? pod.reason, exit: exit)
    }

    /// Waiting reasons that mean the pod cannot start as submitted.
    public static let blockingReasons: Set<String> = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                                                      "CreateContainerConfigError", "CreateContainerError"]

    static func blocker(_ pod: PodFacts) -> Outcome? {
        for c in pod.initContainers + pod.containers {
            if let w = c.waitingReason, blockingReasons.contains(w) {
                return Outcome(state: .failed, raw: w, message: "\(c.name): \(w)" + (c.waitingMessage.map { ": \($0)" } ?? ""))
            }
        }
        let started = pod.phase == "Running" && !(pod.initContainers + pod.containers).contains { $0.waitingReason != nil }
        if !started, let mount = pod.events.last(where: { $0.reason == "FailedMount" }) {
            return Outcome(state: .failed, raw: "FailedMount", message: "FailedMount: " + (mount.message ?? ""))
        }
        return nil
    }
}
