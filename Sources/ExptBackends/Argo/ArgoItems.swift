import Foundation
import ExptModel

/// One task of a workflow as expt reports it: the task's own node (the `Retry` wrapper of a
/// template with a retryStrategy, or the `Skipped` node of an omitted task) and its latest pod.
public struct ArgoStep: Sendable, Equatable {
    /// The outermost non-pod node of the task; nil when the pod is the task (no retryStrategy).
    public var owner: ArgoNode?
    /// The latest attempt; nil before Argo created one, or for a task that never runs (Omitted).
    public var pod: ArgoNode?
    /// The latest attempt's pod, computed (`ArgoNames.podName`), for kubectl and `argo logs`.
    public var podName: String?
    /// Pod attempts seen.
    public var attempts: Int
    /// Argo's phase of the task: the owner's when there is one (a Retry node between two attempts
    /// is still Running though its last pod Failed), except that a live Retry's live attempt
    /// speaks for it (a pod stuck in PodInitializing is Pending, not Running); else the pod's.
    public var phase: String
    /// The pod's message when it has one (the failure: `main: OOMKilled (exit code 137)`,
    /// `PodInitializing`), else the owner's (`No more retries left`, `omitted: …`).
    public var message: String?
    public var exitCode: Int32?
    /// When the latest attempt started (for a Pending pod: since when it waits).
    public var startedAt: Date?
    /// When the task ended; nil while it runs or retries.
    public var finishedAt: Date?
    /// `ArgoPhase.jobState` of the phase, refined by the pod's and the owner's messages.
    public var state: JobState
    /// The latest attempt failed and the Retry node will start another one.
    public var retrying: Bool
}

/// One item of a fan-out (a trait of the GWAS): its index and its task.
@dynamicMemberLookup
public struct ArgoItem: Sendable, Equatable {
    public var index: Int
    public var step: ArgoStep

    public subscript<T>(dynamicMember path: KeyPath<ArgoStep, T>) -> T { step[keyPath: path] }

    /// The backend boundary's view, keeping Argo's phase and message.
    public var taskStatus: TaskStatus {
        TaskStatus(index: index, state: step.state, rawState: step.phase, exitCode: step.exitCode, message: step.message)
    }
}

/// Views over `status.nodes`. An item's nodes are found by their item index
/// (`ArgoNames.itemIndex`), not by walking `children`: in a DAG a task's dependents are listed as
/// children of its last attempt, so the tree mixes items with what comes after them.
///
/// Items Argo has not created nodes for yet (held back by `parallelism`) are absent; the caller
/// knows which indices it submitted and counts those as pending.
public enum ArgoItems {
    /// Every item, by ascending index. `itemInput` names the input parameter carrying the index
    /// (e.g. `trait-index`); `podNameVersion` applies when the workflow has no pod-name-format
    /// annotation.
    public static func items(of workflow: ArgoWorkflow, itemInput: String? = nil,
                             podNameVersion: ArgoPodNameVersion = .v2) -> [ArgoItem] {
        var groups: [Int: Group] = [:]
        for node in workflow.nodes.values where node.name != workflow.name && !isContainer(node) {
            guard let index = ArgoNames.itemIndex(of: node, itemInput: itemInput) else { continue }
            groups[index, default: Group()].add(node)
        }
        return groups.keys.sorted().compactMap { index in
            groups[index]?.step(workflow, podNameVersion).map { ArgoItem(index: index, step: $0) }
        }
    }

    /// The task called `name` that is not an item: the aggregation step (`collect-results`).
    /// Matched by its display name without attempt suffixes, else by its template
    /// (`templateRef.name`, `templateRef.template` or `templateName`). Nil until Argo creates it.
    public static func step(of workflow: ArgoWorkflow, named name: String, itemInput: String? = nil,
                            podNameVersion: ArgoPodNameVersion = .v2) -> ArgoStep? {
        let candidates = workflow.nodes.values.filter {
            $0.name != workflow.name && !isContainer($0) && ArgoNames.itemIndex(of: $0, itemInput: itemInput) == nil
        }
        var group = Group()
        for node in candidates where ArgoDisplayName(node.displayName).base == name { group.add(node) }
        if group.isEmpty {
            for node in candidates where node.templateRef?.name == name || node.templateRef?.template == name
                || node.templateName == name {
                group.add(node)
            }
        }
        return group.step(workflow, podNameVersion)
    }

    /// Fan-out and step groups hold items; they are never one themselves.
    static func isContainer(_ node: ArgoNode) -> Bool { node.type == "TaskGroup" || node.type == "StepGroup" }

    struct Group {
        var owners: [ArgoNode] = []
        var pods: [ArgoNode] = []
        var isEmpty: Bool { owners.isEmpty && pods.isEmpty }

        mutating func add(_ node: ArgoNode) {
            if node.isPod { pods.append(node) } else { owners.append(node) }
        }

        func step(_ workflow: ArgoWorkflow, _ version: ArgoPodNameVersion) -> ArgoStep? {
            guard !isEmpty else { return nil }
            // node names are paths: the shortest is the outermost (a Retry around its attempts)
            let owner = owners.min { ($0.name.utf8.count, $0.name) < ($1.name.utf8.count, $1.name) }
            let pod = pods.max(by: Self.earlier)
            let liveAttempt = owner?.type == "Retry" && owner?.isFulfilled == false && pod?.isFulfilled == false
            let phase = (liveAttempt ? pod?.phase : owner?.phase) ?? pod?.phase ?? ""
            let messages = [pod?.message, owner?.message].compactMap { $0 }.filter { !$0.isEmpty }
            let retrying = owner?.type == "Retry" && owner?.isFulfilled == false
                && pod?.isFulfilled == true && pod?.phase != "Succeeded"
            let finished: Date?
            if let owner { finished = owner.isFulfilled ? owner.finishedAt ?? pod?.finishedAt : nil }
            else { finished = pod?.finishedAt }
            return ArgoStep(owner: owner, pod: pod,
                            podName: pod.map { ArgoNames.podName(workflow: workflow, node: $0, version: version) },
                            attempts: pods.count, phase: phase, message: messages.first,
                            exitCode: pod?.exitCode ?? owner?.exitCode, startedAt: pod?.startedAt ?? owner?.startedAt,
                            finishedAt: finished,
                            state: ArgoPhase.jobState(phase: phase, message: messages.joined(separator: "\n")),
                            retrying: retrying)
        }

        /// Attempt order: by the attempt suffixes (`(3)` after `(2)`), then start time, then name.
        static func earlier(_ a: ArgoNode, _ b: ArgoNode) -> Bool {
            let x = ArgoDisplayName(a.displayName).attempts, y = ArgoDisplayName(b.displayName).attempts
            if x != y { return x.lexicographicallyPrecedes(y) }
            let s = a.startedAt ?? .distantPast, t = b.startedAt ?? .distantPast
            if s != t { return s < t }
            return a.name < b.name
        }
    }
}
