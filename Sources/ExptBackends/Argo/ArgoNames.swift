import Foundation

/// Argo's pod naming schemes, recorded per workflow in the `workflows.argoproj.io/pod-name-format`
/// annotation: v1 = the node id (default up to 3.3), v2 = `<wf>-<template>-<hash>` (default since 3.4).
public enum ArgoPodNameVersion: String, Sendable, Equatable, CaseIterable {
    case v1, v2
}

/// Names Argo computes, so expt can go from a node to its pod without listing pods (pods are
/// garbage-collected; the node stays in the workflow). Sources, argoproj/argo-workflows @ f016ad89:
/// `pkg/apis/workflow/v1alpha1/workflow_types.go` (NodeID), `workflow/util/pod_name.go`
/// (GeneratePodName, GetWorkflowPodNameVersion), `workflow/util/util.go` (GetTemplateFromNode),
/// `workflow/controller/operator.go` (generateNodeName, processNodeRetries).
public enum ArgoNames {
    public static let podNameFormatAnnotation = "workflows.argoproj.io/pod-name-format"

    /// 32-bit FNV-1a over the UTF-8 bytes (Go's `hash/fnv` New32a).
    public static func fnv32a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// The id of the node called `nodeName`: the workflow name for the root, else `<wf>-<fnv32a(name)>`.
    public static func nodeID(workflow: String, nodeName: String) -> String {
        nodeName == workflow ? workflow : "\(workflow)-\(fnv32a(nodeName))"
    }

    /// The workflow's scheme: its annotation wins (`v1`, `v2`; another value means Argo's default,
    /// v2). Without the annotation the controller's `POD_NAMES` decides, which expt cannot see:
    /// `fallback` stands for it (v2, the default since 3.4).
    public static func podNameVersion(of workflow: ArgoWorkflow, fallback: ArgoPodNameVersion = .v2) -> ArgoPodNameVersion {
        guard let value = workflow.annotations[podNameFormatAnnotation] else { return fallback }
        return ArgoPodNameVersion(rawValue: value) ?? .v2
    }

    /// The pod of `node` (meaningful for Pod nodes). `version` is used only when the workflow has
    /// no pod-name-format annotation.
    public static func podName(workflow: ArgoWorkflow, node: ArgoNode, version: ArgoPodNameVersion = .v2) -> String {
        podName(workflowName: workflow.name, nodeName: node.name, template: node.podTemplate,
                nodeID: node.id.isEmpty ? nodeID(workflow: workflow.name, nodeName: node.name) : node.id,
                version: podNameVersion(of: workflow, fallback: version))
    }

    /// `GeneratePodName`: v1 is the node id; v2 is `<wf>-<template>-<fnv32a(node name)>` with the
    /// prefix cut to 242 bytes, or just `<wf>` for a workflow whose only node is the workflow.
    public static func podName(workflowName: String, nodeName: String, template: String, nodeID: String,
                               version: ArgoPodNameVersion) -> String {
        if version == .v1 { return nodeID }
        if workflowName == nodeName { return workflowName }
        var prefix = template.isEmpty ? workflowName : "\(workflowName)-\(template)"
        let maxPrefix = 253 - 10 - 1           // maxK8sResourceNameLength - k8sNamingHashLength - 1
        if prefix.utf8.count > maxPrefix { prefix = String(decoding: prefix.utf8.prefix(maxPrefix), as: UTF8.self) }
        return "\(prefix)-\(fnv32a(nodeName))"
    }

    /// The item index of a node, or nil when it is not one item of a fan-out:
    /// 1. its input parameter `itemInput` (e.g. `trait-index`), when that holds a number;
    /// 2. else a fan-out display name `task(<position>:<item>)` whose item is a number:
    ///    `run-all-traits(3:5)` and its attempt `run-all-traits(3:5)(1)` → 5 (the item, not the
    ///    position: withSequence 2..187 and withParam `[2,5,7]` both put the trait index there);
    /// 3. else a task named `<name>-<number>`, as retry-argo-traits.sh writes them:
    ///    `retry-trait-5` and `retry-trait-5(0)` → 5.
    /// The root node (named like the workflow) is never an item.
    public static func itemIndex(of node: ArgoNode, itemInput: String? = nil) -> Int? {
        if let input = itemInput, let value = node.input(input), let index = Int(value.trimmingCharacters(in: .whitespaces)),
           index >= 0 {
            return index
        }
        let display = ArgoDisplayName(node.displayName)
        if let item = display.item { return Int(item).flatMap { $0 >= 0 ? $0 : nil } }
        guard let dash = display.base.lastIndex(of: "-") else { return nil }
        let digits = display.base[display.base.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(digits)
    }
}

/// A node's display name taken apart: `run-all-traits(3:5)(1)` is the task `run-all-traits`,
/// fan-out position 3, item `5`, retry attempt 1. Argo writes fan-out children as
/// `<task>(<position>:<item>)` with parentheses removed from the item (`generateNodeName`), and
/// retry attempts as `<name>(<attempt>)`; steps' groups display as `[0]`.
public struct ArgoDisplayName: Sendable, Equatable {
    public var base: String
    public var position: Int?
    /// The item as Argo printed it: a number, a string, `key:value,…` for a map item.
    public var item: String?
    /// Retry attempt suffixes, outermost first (one for a plain retryStrategy).
    public var attempts: [Int]

    public init(_ displayName: String) {
        var rest = Substring(displayName)
        var attempts: [Int] = []
        while rest.hasSuffix(")"), let open = rest.lastIndex(of: "(") {
            let inner = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
            guard !inner.isEmpty, inner.allSatisfy(\.isASCIIDigit), let n = Int(inner) else { break }
            attempts.insert(n, at: 0)
            rest = rest[..<open]
        }
        if rest.hasSuffix(")"), let open = rest.lastIndex(of: "("),
           let colon = rest[open...].firstIndex(of: ":") {
            let position = rest[rest.index(after: open)..<colon]
            if !position.isEmpty, position.allSatisfy(\.isASCIIDigit) {
                self.position = Int(position)
                item = String(rest[rest.index(after: colon)..<rest.index(before: rest.endIndex)])
                rest = rest[..<open]
            }
        }
        base = String(rest)
        self.attempts = attempts
    }
}

fileprivate extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
