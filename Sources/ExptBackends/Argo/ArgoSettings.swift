import Foundation
import ExptModel

/// The `[argo]` table of expt.toml (docs/backends/argo.md); every key is optional.
public struct ArgoSettings: Decodable, Sendable, Equatable {
    /// The namespace of the workflows (`-n`); default "default".
    public var namespace: String?
    /// The WorkflowTemplate submitted with `--from workflowtemplate/NAME`.
    public var workflowTemplate: String?
    /// Or a workflow file of the repository, submitted as it is (relative to the worktree).
    public var workflowFile: String?
    /// A WorkflowTemplate per resource profile for a whole launch (`highmem = "gapit3-gwas-highmem"`).
    public var profileTemplates: [String: String]?
    /// The item's WorkflowTemplate per resource profile in a relaunch over some items
    /// (`highmem = "gapit3-gwas-single-trait-highmem"`: the template part of `item_template` stays).
    public var profileItemTemplates: [String: String]?
    /// Workflow parameters passed with `-p` on every submission.
    public var parameters: [String: String]?
    /// Extra labels (`-l`); `expt.run` and `expt.branch` are always set.
    public var labels: [String: String]?
    /// The workflow parameter that receives the items as a JSON list (`[2,5,9]`), for templates
    /// that fan out with `withParam`; unset, a relaunch over some items uses `item_template`.
    public var itemParameter: String?
    /// The node input parameter that carries one item's index (else it is read from the
    /// task's display name, `run-all-traits(3:5)` → 5).
    public var itemInput: String?
    /// The workflow parameter that receives the memory request (`96Gi`), for templates that
    /// read it through `podSpecPatch`.
    public var memoryParameter: String?
    /// The aggregation task that runs after the items (its state is shown beside them), and in
    /// a relaunch over some items, the task added after them.
    public var aggregateStep: String?
    /// The template of one item, `NAME/TEMPLATE` of a WorkflowTemplate (the one the pipeline's
    /// fan-out uses): a relaunch over some items submits a new workflow with one task per item
    /// (what the GWAS pipeline's retry script generates), since `argo retry` cannot narrow.
    public var itemTemplate: String?
    /// The arguments of one item's task, `{item}` replaced; default `{ <item_input> = "{item}" }`.
    public var itemArguments: [String: String]?
    /// The aggregation task of a relaunch, `NAME/TEMPLATE`, depending on every item.
    public var aggregateTemplate: String?
    /// Its arguments, passed as written (Argo expands `{{workflow.name}}`, `{{workflow.parameters.x}}`).
    public var aggregateArguments: [String: String]?
    /// How long a pod may wait in Pending / PodInitializing / ContainerCreating before its item
    /// counts as stuck; default "10m".
    public var stuckAfter: String?
    /// Prepended to every argo/kubectl command (`["wsl", "-e", "bash", "-c"]`, `["ssh", "login1"]`).
    public var execPrefix: [String]?
    /// Environment for the CLIs (`KUBECONFIG`), exported inside the exec prefix's string.
    public var env: [String: String]?
}

extension ArgoBackend {
    public static let entry = BackendEntry(name: "argo", settings: ArgoSettings.self) { s, context in
        if let t = s.stuckAfter, Units.seconds(t) == nil {
            throw ExptError(.invalidInput, "[argo] stuck_after '\(t)' is not a duration like 10m or 00:10:00")
        }
        return ArgoBackend(settings: s, runner: context.runner, runsDir: context.runsDir)
    }
}

/// Adds environment variables to every command (without an exec prefix, where they can be
/// passed to the process itself).
struct EnvironmentRunner: ProcessRunner {
    let base: ProcessRunner
    let environment: [String: String]

    func run(_ argv: [String], stdin: Data?, environment extra: [String: String]?, cwd: String?) throws -> ProcessResult {
        try base.run(argv, stdin: stdin, environment: environment.merging(extra ?? [:]) { _, b in b }, cwd: cwd)
    }
}

/// What expt keeps of an Argo run in its run directory: what it submitted, the last
/// `argo get`, and the pod facts of failed items (pods do not last).
struct ArgoRunFiles {
    struct Submission: Codable { var workflow: String; var namespace: String; var items: [Int] }
    let dir: String

    init(runsDir: String, runID: String) { dir = runsDir + "/" + runID }

    func saveSubmission(_ s: Submission) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try JSONEncoder().encode(s).write(to: URL(fileURLWithPath: dir + "/argo-submission.json"), options: .atomic)
        } catch {
            throw ExptError(.failure, "cannot record the submission in \(dir): \(error.localizedDescription)")
        }
    }

    func submission() -> Submission? {
        (try? Data(contentsOf: URL(fileURLWithPath: dir + "/argo-submission.json"))).flatMap { try? JSONDecoder().decode(Submission.self, from: $0) }
    }

    func lastGet() -> ArgoWorkflow? {
        guard let text = try? String(contentsOfFile: dir + "/argo-get.json", encoding: .utf8) else { return nil }
        return try? ArgoJSON.workflow(text, command: "the saved argo get")
    }

    func saveGet(_ json: String) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? json.write(toFile: dir + "/argo-get.json", atomically: true, encoding: .utf8)
    }

    func saveParameters(_ parameters: [ArgoParameter]) {
        var values: [String: String] = [:]
        for p in parameters { if let v = p.value { values[p.name] = v } }
        guard !values.isEmpty, let data = try? JSONEncoder().encode(values) else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: dir + "/argo-parameters.json"), options: .atomic)
    }

    func parameters() -> [String: String] {
        (try? Data(contentsOf: URL(fileURLWithPath: dir + "/argo-parameters.json")))
            .flatMap { try? JSONDecoder().decode([String: String].self, from: $0) } ?? [:]
    }

    struct Items: Codable { var items: [Int]; var pods: [Int: String] }

    /// The items the workflow has and each one's latest pod, as the last poll saw them.
    func saveItems(_ items: [Int], pods: [Int: String]) {
        guard let data = try? JSONEncoder().encode(Items(items: items, pods: pods)) else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: dir + "/argo-items.json"), options: .atomic)
    }

    private func savedItems() -> Items? {
        (try? Data(contentsOf: URL(fileURLWithPath: dir + "/argo-items.json"))).flatMap { try? JSONDecoder().decode(Items.self, from: $0) }
    }
    func items() -> [Int] { savedItems()?.items ?? [] }
    func pods() -> [Int: String] { savedItems()?.pods ?? [:] }

    /// The replaced workflow's spec fields (`ArgoManifest.inheritedKeys`), from `spec` and,
    /// for a workflow submitted from a template, `status.storedWorkflowTemplateSpec`.
    func saveSpec(_ workflow: [String: Any]) {
        let spec = workflow["spec"] as? [String: Any] ?? [:]
        let stored = (workflow["status"] as? [String: Any])?["storedWorkflowTemplateSpec"] as? [String: Any] ?? [:]
        let kept = stored.merging(spec) { _, own in own }.filter { ArgoManifest.inheritedKeys.contains($0.key) }
        guard !kept.isEmpty, let data = try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]) else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: dir + "/argo-spec.json"), options: .atomic)
    }

    func spec() -> [String: Any] {
        (try? Data(contentsOf: URL(fileURLWithPath: dir + "/argo-spec.json")))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }

    func podFactsPath(item: Int) -> String { dir + "/items/\(item)/pod.txt" }
    func hasPodFacts(item: Int) -> Bool { FileManager.default.fileExists(atPath: podFactsPath(item: item)) }

    func savePodFacts(item: Int, _ text: String) {
        let path = podFactsPath(item: item)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Running argo and kubectl: their failures in words that say what to do.
enum ArgoCLI {
    static func check(_ r: ProcessResult, _ argv: [String], hint: String? = nil) throws -> ProcessResult {
        guard r.status != 0 else { return r }
        // WSL prints a harmless /etc/fstab warning on every start.
        let stderr = r.stderr.split(separator: "\n").filter { !($0.contains("wsl:") && $0.contains("fstab")) }
            .suffix(8).joined(separator: "\n")
        let command = "`\(ShellQuote.join(argv))`"
        let tool = argv.first ?? "argo"
        if r.status == 127 { throw ExptError(.external, "\(tool) is not installed or not on PATH where \(command) ran",
                                             hint: "install the \(tool) CLI there, or set [argo] exec_prefix to reach a host that has it") }
        // kubectl without a kubeconfig falls back to localhost:8080; argo says it outright.
        if stderr.contains("no configuration has been provided") || stderr.contains("invalid configuration: no configuration")
            || stderr.contains("localhost:8080 was refused") {
            throw ExptError(.external, "\(tool) has no cluster configuration: \(stderr)",
                            hint: "set KUBECONFIG: [argo] env = { KUBECONFIG = \"/path/to/kubeconfig\" }")
        }
        if stderr.contains("Unable to connect to the server") || stderr.contains("connection refused") || stderr.contains("i/o timeout")
            || stderr.contains("no such host") {
            throw ExptError(.external, "the cluster cannot be reached (\(command)): \(stderr)", hint: "check the VPN or network, and the kubeconfig's server")
        }
        if stderr.contains("PermissionDenied") || stderr.contains("forbidden") {
            throw ExptError(.external, "the cluster refused \(command): \(stderr)",
                            hint: "your account (or its service account) lacks permission in namespace \(argv.firstIndex(of: "-n").map { argv[$0 + 1] } ?? "?")")
        }
        if stderr.contains("NotFound") || stderr.contains("not found") {
            throw ExptError(.notFound, "\(command) found nothing: \(stderr)", hint: hint)
        }
        throw ExptError(.external, "\(command) failed (exit \(r.status)): \(stderr)", hint: hint)
    }

    /// The requested part of a log that was read whole (argo logs has no byte ranges).
    static func slice(_ bytes: [UInt8], _ range: LogRange) -> LogChunk {
        let size = UInt64(bytes.count)
        switch range {
        case .headAndTail(let head, let tail):
            guard bytes.count > head + tail else { return LogChunk(head: bytes, size: size, end: size) }
            var h = Array(bytes[..<head])
            if let nl = h.lastIndex(of: 10) { h.removeSubrange((nl + 1)...) }
            return LogChunk(head: h, tail: Array(bytes[(bytes.count - tail)...]), size: size, end: size)
        case .tail(let n):
            return LogChunk(head: Array(bytes.suffix(n)), size: size, end: size)
        case .from(let offset, let max):
            let start = min(Int(offset), bytes.count)
            let part = Array(bytes[start..<min(bytes.count, start + max)])
            return LogChunk(head: part, size: size, end: UInt64(start + part.count))
        }
    }
}

extension ArgoNames {
    /// `--generate-name` for a run: lowercase DNS-1123, short enough that pod names stay valid.
    static func workflowPrefix(runID: String, branch: String) -> String {
        "expt-\(runID.lowercased())-" + String(labelValue(branch).lowercased().prefix(24)).trimmingCharacters(in: CharacterSet(charactersIn: "-.")) + "-"
    }

    /// A label value: letters, digits, `-`, `_`, `.`; at most 63; alphanumeric at both ends.
    static func labelValue(_ s: String) -> String {
        let mapped = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "-" }.prefix(63))
        return mapped.trimmingCharacters(in: CharacterSet(charactersIn: "-_."))
    }

    /// MiB as a Kubernetes quantity: `96Gi`, `1536Mi`.
    static func quantity(megabytes mb: Int) -> String { mb % 1024 == 0 ? "\(mb / 1024)Gi" : "\(mb)Mi" }
}

/// The workflow a relaunch over some items submits (the shape of the GWAS pipeline's
/// `retry-argo-traits.sh`): a DAG with one task per item on the item's WorkflowTemplate (the
/// profile's, e.g. highmem), and the aggregation depending on all of them.
enum ArgoManifest {
    /// The spec fields a relaunch takes over from the workflow it replaces.
    static let inheritedKeys: Set<String> = ["volumes", "serviceAccountName", "podGC", "nodeSelector", "tolerations",
                                             "affinity", "imagePullSecrets", "securityContext", "podMetadata",
                                             "activeDeadlineSeconds", "ttlStrategy", "priorityClassName", "podPriorityClassName"]

    static func items(_ items: [Int], itemTemplate: String, settings: ArgoSettings, profile: String?,
                      generateName: String, namespace: String, labels: [String: String], maxConcurrent: Int?,
                      inherited: [String: Any] = [:]) throws -> String {
        func ref(_ text: String, _ key: String) throws -> [String: String] {
            let parts = text.split(separator: "/").map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ExptError(.invalidInput, "[argo] \(key) '\(text)' must be WORKFLOWTEMPLATE/TEMPLATE, e.g. gapit3-gwas-single-trait/run-gwas")
            }
            return ["name": parts[0], "template": parts[1]]
        }
        var itemRef = try ref(itemTemplate, "item_template")
        if let profile, let t = settings.profileItemTemplates?[profile] { itemRef["name"] = t }
        let arguments = settings.itemArguments ?? [settings.itemInput ?? "item": "{item}"]
        var tasks: [[String: Any]] = items.map { i in
            ["name": "item-\(i)", "templateRef": itemRef,
             "arguments": ["parameters": arguments.sorted { $0.key < $1.key }.map {
                 ["name": $0.key, "value": $0.value.replacingOccurrences(of: "{item}", with: String(i))] }]]
        }
        if let aggregate = settings.aggregateTemplate {
            var task: [String: Any] = ["name": settings.aggregateStep ?? "aggregate", "templateRef": try ref(aggregate, "aggregate_template"),
                                       "dependencies": items.map { "item-\($0)" }]
            if let args = settings.aggregateArguments {
                task["arguments"] = ["parameters": args.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }]
            }
            tasks.append(task)
        }
        // What the templates expect of the workflow that calls them (volumes, service account,
        // …) comes from the workflow being replaced.
        var spec: [String: Any] = inherited.filter { ArgoManifest.inheritedKeys.contains($0.key) }
        spec["entrypoint"] = "expt-items"
        spec["templates"] = [["name": "expt-items", "dag": ["tasks": tasks]]]
        if let maxConcurrent { spec["parallelism"] = maxConcurrent }
        let workflow: [String: Any] = [
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": ["generateName": generateName, "namespace": namespace, "labels": labels],
            "spec": spec,
        ]
        let data = try JSONSerialization.data(withJSONObject: workflow, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
