import Foundation
import ExptModel

// What the cluster backends (Argo, Kubernetes, Run:ai, OSMO) share: how they run their CLI,
// what they keep in the run directory, and Kubernetes' naming rules.

/// The runner of a cluster CLI: `exec_prefix` (with `env` exported inside its one string) or
/// the environment added to the process; never colour, never a pager.
enum ClusterRunner {
    static func make(_ base: ProcessRunner, execPrefix: [String]?, env: [String: String]?) -> ProcessRunner {
        let env = (env ?? [:]).merging(["NO_COLOR": "1", "TERM": "dumb"]) { a, _ in a }
        guard let prefix = execPrefix, !prefix.isEmpty else { return EnvironmentRunner(base: base, environment: env) }
        return PrefixedRunner(prefix: prefix, base: base, exports: env)
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

/// What a cluster backend keeps of a run in its run directory: what it submitted, its items
/// and their latest pods as the last poll saw them, and the pod facts of failed items (pods do
/// not last). Argo also keeps its last `argo get` and the replaced workflow's spec here.
struct RunFiles {
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

extension LogChunk {
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

/// Kubernetes' naming rules, for labels and quantities.
enum ClusterNames {
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
