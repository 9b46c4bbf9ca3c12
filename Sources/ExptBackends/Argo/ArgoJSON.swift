import Foundation
import ExptModel

/// One Argo Workflow as `argo get -n NS NAME -o json` prints it, and as each element of
/// `argo list -n NS -l SEL -o json` is, reduced to what expt reads. Pure values.
///
/// Shapes: CLI-FACTS §1 and backends research §1.1, checked against real captures
/// (Tests/ExptBackendsTests/Fixtures/argo/SOURCES.md). Decoding is defensive: every field but
/// `metadata.name` (and a node's `name` and `type`) may be missing or null, unknown fields are
/// ignored, and `outputs.exitCode` or a parameter value printed as a number is read as text.
public struct ArgoWorkflow: Sendable, Equatable {
    // metadata
    public var name: String
    public var namespace: String?
    public var generateName: String?
    public var uid: String?
    public var labels: [String: String]
    /// Includes `workflows.argoproj.io/pod-name-format` (`v1` | `v2`), see `ArgoNames.podName`.
    public var annotations: [String: String]
    public var createdAt: Date?
    // spec
    /// `spec.arguments.parameters`: what a relaunch carries over (`-p name=value`).
    public var parameters: [ArgoParameter]
    /// `spec.workflowTemplateRef.name` when submitted with `--from workflowtemplate/NAME`.
    public var workflowTemplate: String?
    public var entrypoint: String?
    /// `spec.shutdown`: `Stop` or `Terminate` once `argo stop`/`terminate` was asked.
    public var shutdown: String?
    // status
    /// `""` until the controller has seen the workflow; then Pending, Running, Succeeded, Failed, Error.
    public var phase: String
    public var message: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// `"done/total"` over Pod nodes, failed attempts included (workflow/progress/updater.go):
    /// not an item count. See `ArgoProgress`.
    public var progress: String?
    /// `status.nodes`, keyed by node id.
    public var nodes: [String: ArgoNode]
    /// The controller keeps the nodes elsewhere (`status.offloadNodeStatusVersion` or
    /// `status.compressedNodes` is set), so `nodes` is empty or partial: `argo get` re-hydrates them.
    public var nodesElsewhere: Bool

    public init(name: String, namespace: String? = nil, generateName: String? = nil, uid: String? = nil,
                labels: [String: String] = [:], annotations: [String: String] = [:], createdAt: Date? = nil,
                parameters: [ArgoParameter] = [], workflowTemplate: String? = nil, entrypoint: String? = nil,
                shutdown: String? = nil, phase: String = "", message: String? = nil, startedAt: Date? = nil,
                finishedAt: Date? = nil, progress: String? = nil, nodes: [String: ArgoNode] = [:],
                nodesElsewhere: Bool = false) {
        self.name = name; self.namespace = namespace; self.generateName = generateName; self.uid = uid
        self.labels = labels; self.annotations = annotations; self.createdAt = createdAt
        self.parameters = parameters; self.workflowTemplate = workflowTemplate; self.entrypoint = entrypoint
        self.shutdown = shutdown; self.phase = phase; self.message = message; self.startedAt = startedAt
        self.finishedAt = finishedAt; self.progress = progress; self.nodes = nodes; self.nodesElsewhere = nodesElsewhere
    }

    /// The value of workflow parameter `name` (last one wins, as in Argo's override).
    public func parameter(_ name: String) -> String? { parameters.last { $0.name == name }?.value }

    /// Completed as Argo means it: Succeeded, Failed or Error.
    public var isCompleted: Bool { ["Succeeded", "Failed", "Error"].contains(phase) }
}

/// `{"name": …, "value": …}` of `spec.arguments.parameters` or a node's `inputs.parameters`.
public struct ArgoParameter: Sendable, Equatable {
    public var name: String
    /// nil when the parameter has no value (a template input without default).
    public var value: String?
    public init(name: String, value: String?) { self.name = name; self.value = value }
}

/// `status.templateRef` of a node: the WorkflowTemplate and the template in it.
public struct ArgoTemplateRef: Sendable, Equatable {
    public var name: String?
    public var template: String?
    public var clusterScope: Bool
    public init(name: String?, template: String?, clusterScope: Bool = false) {
        self.name = name; self.template = template; self.clusterScope = clusterScope
    }
}

/// One entry of `status.nodes`. Types seen: Pod, Container, Steps, StepGroup, DAG, TaskGroup,
/// Retry, Skipped, Suspend, HTTP, Plugin; phases: Pending, Running, Succeeded, Skipped, Failed,
/// Error, Omitted. Only Pod nodes are pods (and carry the failure message).
public struct ArgoNode: Sendable, Equatable {
    public var id: String
    /// The full path, e.g. `wf.run-all-traits(3:5)(0)`: the input of the node id and pod name hash.
    public var name: String
    /// Relative to the boundary, e.g. `run-all-traits(3:5)(0)`; the name when Argo printed none.
    public var displayName: String
    public var type: String
    public var templateName: String?
    public var templateRef: ArgoTemplateRef?
    public var phase: String
    public var message: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var boundaryID: String?
    /// Child node ids. In a DAG, a task's dependents are children of its last node (argotest:
    /// `B(0)` lists `D`), so a Pod with children is not unusual.
    public var children: [String]
    /// `inputs.parameters`.
    public var inputs: [ArgoParameter]
    /// `outputs.exitCode` exactly as printed: Argo prints it as a string (`"137"`).
    public var exitCodeText: String?
    public var hostNodeName: String?

    public init(id: String, name: String, displayName: String? = nil, type: String, templateName: String? = nil,
                templateRef: ArgoTemplateRef? = nil, phase: String = "", message: String? = nil,
                startedAt: Date? = nil, finishedAt: Date? = nil, boundaryID: String? = nil, children: [String] = [],
                inputs: [ArgoParameter] = [], exitCodeText: String? = nil, hostNodeName: String? = nil) {
        self.id = id; self.name = name; self.displayName = displayName ?? name; self.type = type
        self.templateName = templateName; self.templateRef = templateRef; self.phase = phase; self.message = message
        self.startedAt = startedAt; self.finishedAt = finishedAt; self.boundaryID = boundaryID
        self.children = children; self.inputs = inputs; self.exitCodeText = exitCodeText; self.hostNodeName = hostNodeName
    }

    public var exitCode: Int32? { exitCodeText.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) } }
    public var isPod: Bool { type == "Pod" }
    /// Ended, one way or another (Argo's `Fulfilled`).
    public var isFulfilled: Bool { ["Succeeded", "Failed", "Error", "Skipped", "Omitted"].contains(phase) }
    /// The value of input parameter `name`.
    public func input(_ name: String) -> String? { inputs.last { $0.name == name }?.value }
    /// The template a pod name is built from: `templateRef.template` when the node has a
    /// templateRef, else `templateName` (workflow/util/util.go `GetTemplateFromNode`).
    public var podTemplate: String {
        if let ref = templateRef { return ref.template ?? "" }
        return templateName ?? ""
    }
}
