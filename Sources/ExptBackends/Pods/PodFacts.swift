import Foundation
import ExptModel

/// What Kubernetes says about one pod (`kubectl get pod NAME -o json`) and its events
/// (`kubectl get events --field-selector involvedObject.name=NAME -o json`): the facts every
/// pod-based backend (Argo, Kubernetes Jobs, Run:ai) reads. Decoding is defensive: a field that
/// is missing is nil, never a guess.
public struct PodFacts: Sendable, Equatable {
    public struct Container: Sendable, Equatable {
        public var name: String
        /// `waiting.reason` (ContainerCreating, PodInitializing, ImagePullBackOff, …).
        public var waitingReason: String?
        public var waitingMessage: String?
        /// `terminated` (the current state) or `lastState.terminated` (a restarted container).
        public var terminatedReason: String?
        public var exitCode: Int32?
        public var restartCount: Int
    }
    public struct Event: Sendable, Equatable {
        public var type: String?
        public var reason: String?
        public var message: String?
        public var count: Int?
        public var lastSeen: Date?
    }

    public var name: String
    /// Pending, Running, Succeeded, Failed, Unknown.
    public var phase: String?
    public var createdAt: Date?
    /// `status.reason` (Evicted, DeadlineExceeded, …) and `status.message`.
    public var reason: String?
    public var message: String?
    /// `PodScheduled` False: the scheduler's reason and message (Unschedulable, over quota).
    public var unscheduledMessage: String?
    /// `DisruptionTarget` True: preemption, eviction, a taint (never the job's own fault).
    public var disruption: String?
    public var initContainers: [Container]
    public var containers: [Container]
    public var events: [Event] = []
    /// `metadata.labels` / `metadata.annotations` (a Job's pod carries its completion index in both).
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    /// The Job that owns the pod (`metadata.ownerReferences[kind=Job].name`), if any.
    public var ownerJob: String?
    /// `metadata.deletionTimestamp` is set: the pod is being deleted (terminating).
    public var deleting = false

    /// Keys the Job controller sets on an Indexed Job's pods (k8s.io/api batch/v1 types.go).
    public static let completionIndexKey = "batch.kubernetes.io/job-completion-index"
    public static let indexFailureCountKey = "batch.kubernetes.io/job-index-failure-count"
    public static let indexIgnoredFailureCountKey = "batch.kubernetes.io/job-index-ignored-failure-count"
    public static let jobNameKeys = ["batch.kubernetes.io/job-name", "job-name"]

    /// The pod's completion index in an Indexed Job (`JOB_COMPLETION_INDEX` inside the pod):
    /// the annotation, else the label (a label too since Kubernetes 1.28).
    public var completionIndex: Int? {
        (annotations[Self.completionIndexKey] ?? labels[Self.completionIndexKey]).flatMap { Int($0) }
    }
    /// Failures of this pod's index so far that count against `backoffLimitPerIndex`, and those a
    /// pod failure policy `Ignore` rule did not count (disruptions). Absent means 0.
    public var indexFailureCount: Int { annotations[Self.indexFailureCountKey].flatMap { Int($0) } ?? 0 }
    public var indexIgnoredFailureCount: Int { annotations[Self.indexIgnoredFailureCountKey].flatMap { Int($0) } ?? 0 }
    /// The Job the pod belongs to: its owner reference, else the job-name labels.
    public var jobName: String? { ownerJob ?? Self.jobNameKeys.lazy.compactMap { labels[$0] }.first }

    /// The first container (init containers first) that waits, with its reason.
    public var waiting: Container? {
        (initContainers + containers).first { $0.waitingReason != nil }
    }

    /// The main container's termination, else any container's (the wait container's exit 64).
    public func termination(main: String = "main") -> Container? {
        containers.first { $0.name == main && $0.terminatedReason != nil }
            ?? (initContainers + containers).first { $0.terminatedReason != nil && $0.exitCode != 0 }
    }

    /// True when the pod has not started for longer than `threshold`: Pending (unscheduled or
    /// waiting in PodInitializing/ContainerCreating) since it was created.
    public func isStuck(now: Date, threshold: TimeInterval) -> Bool {
        guard phase == "Pending" || (phase == "Running" && waiting != nil && containers.allSatisfy({ $0.waitingReason != nil })),
              let created = createdAt else { return false }
        return now.timeIntervalSince(created) > threshold
    }

    /// How the pod is stuck, in the words the diagnosis rules read ("stuck: pod … has been
    /// PodInitializing for 14m"), or nil when it is not.
    public func stuckDescription(now: Date, threshold: TimeInterval) -> String? {
        guard isStuck(now: now, threshold: threshold), let created = createdAt else { return nil }
        let how = waiting?.waitingReason ?? (unscheduledMessage != nil ? "Pending" : phase ?? "Pending")
        let age = Units.elapsed(Int(now.timeIntervalSince(created)))
        return "stuck: pod \(name) has been \(how) for \(age) (longer than \(Units.duration(Int(threshold))))"
    }

    /// The facts as text, one per line, for the run directory (pods are garbage-collected) and
    /// for diagnosis, which reads it like a log.
    public func report(now: Date, threshold: TimeInterval) -> String {
        var lines = ["pod \(name): phase \(phase ?? "?")" + (reason.map { ", reason \($0)" } ?? "") + (message.map { ": \($0)" } ?? "")]
        if let s = stuckDescription(now: now, threshold: threshold) { lines.append(s) }
        if let u = unscheduledMessage { lines.append("PodScheduled=False: \(u)") }
        if let d = disruption { lines.append("DisruptionTarget: \(d)") }
        for c in initContainers + containers {
            if let w = c.waitingReason { lines.append("container \(c.name): waiting \(w)" + (c.waitingMessage.map { ": \($0)" } ?? "")) }
            if let t = c.terminatedReason {
                lines.append("container \(c.name): \(t) (exit code \(c.exitCode.map(String.init) ?? "?"))"
                             + (c.restartCount > 0 ? ", restarted \(c.restartCount) time(s)" : ""))
            }
        }
        for e in events {
            lines.append("event \(e.type ?? "?") \(e.reason ?? "?"): \(e.message ?? "")" + ((e.count ?? 1) > 1 ? " (×\(e.count!))" : ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension PodFacts {
    /// Parses `kubectl get pod -o json`; `command` names the call in errors.
    public static func parse(pod json: String, command: String) throws -> PodFacts {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw ExptError(.external, "\(command) printed something that is not a JSON object: \(json.prefix(120))")
        }
        return try parse(object: object, command: command)
    }

    /// One Pod object (an item of `kubectl get pods -o json`, or a whole `get pod`).
    static func parse(object: [String: Any], command: String) throws -> PodFacts {
        guard let meta = object["metadata"] as? [String: Any], let name = meta["name"] as? String else {
            throw ExptError(.external, "\(command) returned a pod without metadata.name")
        }
        let status = object["status"] as? [String: Any] ?? [:]
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        func condition(_ type: String, _ value: String) -> [String: Any]? {
            conditions.first { $0["type"] as? String == type && $0["status"] as? String == value }
        }
        let unscheduled = condition("PodScheduled", "False").map { c in
            [c["reason"] as? String, c["message"] as? String].compactMap { $0 }.joined(separator: ": ")
        }
        let disruption = condition("DisruptionTarget", "True").map { c in
            [c["reason"] as? String, c["message"] as? String].compactMap { $0 }.joined(separator: ": ")
        }
        let owner = (meta["ownerReferences"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "Job" }?["name"] as? String
        return PodFacts(name: name, phase: status["phase"] as? String, createdAt: (meta["creationTimestamp"] as? String).flatMap(parseTime),
                        reason: status["reason"] as? String, message: status["message"] as? String,
                        unscheduledMessage: unscheduled, disruption: disruption,
                        initContainers: containers(status["initContainerStatuses"]), containers: containers(status["containerStatuses"]),
                        labels: meta["labels"] as? [String: String] ?? [:], annotations: meta["annotations"] as? [String: String] ?? [:],
                        ownerJob: owner, deleting: meta["deletionTimestamp"] is String)
    }

    /// Parses `kubectl get events -o json` (a List of Events), oldest first.
    public static func parse(events json: String, command: String) throws -> [Event] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw ExptError(.external, "\(command) printed something that is not a JSON object: \(json.prefix(120))")
        }
        guard let items = object["items"] as? [[String: Any]] else {
            throw ExptError(.external, "\(command) returned a list without 'items'")
        }
        return items.map { e in
            Event(type: e["type"] as? String, reason: e["reason"] as? String, message: e["message"] as? String,
                  count: e["count"] as? Int, lastSeen: (e["lastTimestamp"] as? String).flatMap(parseTime))
        }.sorted { ($0.lastSeen ?? .distantPast) < ($1.lastSeen ?? .distantPast) }
    }

    static func containers(_ value: Any?) -> [Container] {
        (value as? [[String: Any]] ?? []).map { c in
            let state = c["state"] as? [String: Any] ?? [:]
            let last = c["lastState"] as? [String: Any] ?? [:]
            let waiting = state["waiting"] as? [String: Any]
            let terminated = state["terminated"] as? [String: Any] ?? last["terminated"] as? [String: Any]
            return Container(name: c["name"] as? String ?? "?", waitingReason: waiting?["reason"] as? String,
                             waitingMessage: waiting?["message"] as? String, terminatedReason: terminated?["reason"] as? String,
                             exitCode: (terminated?["exitCode"] as? Int).map(Int32.init), restartCount: c["restartCount"] as? Int ?? 0)
        }
    }

    /// Kubernetes' RFC 3339 timestamps (`2026-01-05T15:18:03Z`, with or without fractions).
    static func parseTime(_ s: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: s) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: s)
    }
}
