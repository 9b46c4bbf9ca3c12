import Foundation
import ExptModel

/// The Indexed Job a run submits (`kubectl create -f - -n NS -o name`, manifest on stdin), as JSON.
///
/// Items and indexes. A Job's indexes are always 0..n-1 and its spec cannot change, so every Job
/// expt creates runs its items through a list: completion index k runs the k-th item of
/// `EXPT_ITEMS` (compressed like `completedIndexes`: "5,28-29"). The first run over items 2..187
/// is a Job of 186 indexes with `EXPT_ITEMS="2-187"`; a relaunch over items 5, 28 and 29 is a
/// fresh Job of 3 indexes with `EXPT_ITEMS="5,28-29"`. The same list is kept in the Job's
/// annotation `expt.items`, so a poll maps an index back to its item (`KubeJob.item(ofIndex:)`)
/// with no state of its own. Inside the pod, before the command, a few lines of bash set
/// `EXPT_ITEM` from `JOB_COMPLETION_INDEX` (set by Kubernetes) and `EXPT_ITEMS`. A run without
/// items is a Job of one index and no `EXPT_ITEM`.
///
/// Retries. `backoffLimitPerIndex` retries each index on its own (GA in Kubernetes 1.33, beta
/// from 1.29), and a `podFailurePolicy` (GA 1.31; it needs `restartPolicy: Never`) first ignores
/// disruptions (`DisruptionTarget`: preemption, eviction, a taint, node loss: never counted), then
/// fails an index at once on exit codes that a retry cannot fix (`FailIndex`). A pod started
/// again after a disruption or failure resumes from the newest checkpoint when the run has a
/// resume command (`EXPT_RESUME_COMMAND` / `EXPT_CHECKPOINT_GLOB`, as the Slurm template does),
/// telling the attempts apart by the Job controller's per-index failure-count annotations.
///
/// Sources: kubernetes/website `content/en/examples/controllers/job-backoff-limit-per-index-failindex.yaml`
/// and `job-pod-failure-policy-example.yaml` (field names and shapes), k8s.io/api batch/v1 types.go
/// (annotation names); see docs/backends/kubernetes.md.
public enum KubeJobManifest {
    public static let runLabel = "expt.run"
    public static let branchLabel = "expt.branch"
    /// The run's items in index order (`KubeIndexes.format`), on the Job.
    public static let itemsAnnotation = "expt.items"
    /// `JobSpec.jobName`, on the Job (a lookup after an interrupted launch matches it).
    public static let jobNameAnnotation = "expt.job-name"
    /// The container the command runs in (logs: `kubectl logs POD -c main`).
    public static let container = "main"

    /// What the `[kubernetes]` settings give the manifest.
    public struct Options: Sendable, Equatable {
        public var namespace: String
        public var image: String
        /// Retries of one index before it fails (`backoffLimitPerIndex`).
        public var backoffLimitPerIndex: Int
        /// Exit codes that fail an index without a retry (`FailIndex`); 0 is not allowed. Default:
        /// 126 and 127, a command that cannot be run or is not there (bash's codes).
        public var failIndexExitCodes: [Int]
        public var serviceAccount: String?
        /// The extended resource GPUs are asked for with.
        public var gpuResource: String
        /// The container's working directory (the worktree as the pod sees it), if any.
        public var workingDir: String?
        /// Extra labels on the Job and its pods (`expt.run` and `expt.branch` are always set).
        public var labels: [String: String]
        /// `priorityClassName` of the pods (on a Run:ai cluster: preemptible below 100).
        public var priorityClassName: String?
        public var imagePullPolicy: String?

        public init(namespace: String, image: String, backoffLimitPerIndex: Int = 1, failIndexExitCodes: [Int] = [126, 127],
                    serviceAccount: String? = nil, gpuResource: String = "nvidia.com/gpu", workingDir: String? = nil,
                    labels: [String: String] = [:], priorityClassName: String? = nil, imagePullPolicy: String? = nil) {
            self.namespace = namespace; self.image = image; self.backoffLimitPerIndex = backoffLimitPerIndex
            self.failIndexExitCodes = failIndexExitCodes; self.serviceAccount = serviceAccount; self.gpuResource = gpuResource
            self.workingDir = workingDir; self.labels = labels; self.priorityClassName = priorityClassName
            self.imagePullPolicy = imagePullPolicy
        }
    }

    /// The Job for `spec`: JSON with sorted keys, for `kubectl create -f -`.
    public static func render(spec: JobSpec, options o: Options) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: try object(spec: spec, options: o),
                                              options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func object(spec: JobSpec, options o: Options) throws -> [String: Any] {
        guard !o.namespace.isEmpty else { throw ExptError(.invalidInput, "[kubernetes] names no namespace", hint: "set namespace = \"<your namespace>\"") }
        guard !o.image.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ExptError(.invalidInput, "[kubernetes] names no image to run the command in", hint: "set image = \"<registry>/<image>:<tag>\"")
        }
        guard !spec.command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ExptError(.invalidInput, "the run has no command to run in the Job", hint: "set command in expt.toml")
        }
        guard o.backoffLimitPerIndex >= 0 else { throw ExptError(.invalidInput, "[kubernetes] backoff_limit_per_index must be 0 or more") }
        guard !o.failIndexExitCodes.contains(where: { $0 <= 0 || $0 > 255 }) else {
            throw ExptError(.invalidInput, "[kubernetes] fail_index_exit_codes must be exit codes from 1 to 255 (got \(o.failIndexExitCodes))")
        }
        let items = spec.array?.indices
        if let items, items.isEmpty { throw ExptError(.invalidInput, "the run names an empty list of items") }
        let count = items?.count ?? 1

        var labels = o.labels
        labels[runLabel] = spec.runID
        labels[branchLabel] = ClusterNames.labelValue(spec.branch)
        var annotations = [jobNameAnnotation: spec.jobName]
        var env = spec.environment
        env["EXPT_RUN_ID"] = spec.runID
        env["EXPT_BRANCH"] = spec.branch
        if let items {
            annotations[itemsAnnotation] = KubeIndexes.format(items)
            env["EXPT_ITEMS"] = KubeIndexes.format(items)
        }
        var envList: [[String: Any]] = env.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] as [String: Any] }
        for (name, key) in [("EXPT_INDEX_FAILURES", PodFacts.indexFailureCountKey), ("EXPT_INDEX_IGNORED_FAILURES", PodFacts.indexIgnoredFailureCountKey)] {
            let field: [String: Any] = ["fieldRef": ["fieldPath": "metadata.annotations['\(key)']"]]
            envList.append(["name": name, "valueFrom": field])
        }

        var main: [String: Any] = ["name": Self.container, "image": o.image, "env": envList,
                                   "command": ["bash", "-c", script(command: spec.command, items: items != nil)]]
        if let dir = o.workingDir, !dir.isEmpty { main["workingDir"] = dir }
        if let policy = o.imagePullPolicy { main["imagePullPolicy"] = policy }
        let resources = resourceObject(spec.resources, gpuResource: o.gpuResource)
        if !resources.isEmpty { main["resources"] = resources }

        var podSpec: [String: Any] = ["restartPolicy": "Never", "containers": [main]]
        if let sa = o.serviceAccount, !sa.isEmpty { podSpec["serviceAccountName"] = sa }
        if let pc = o.priorityClassName, !pc.isEmpty { podSpec["priorityClassName"] = pc }
        // per pod, as a Slurm time limit is per array task (DeadlineExceeded on the pod)
        if let limit = spec.resources.timeLimitSeconds, limit > 0 { podSpec["activeDeadlineSeconds"] = limit }

        var rules: [[String: Any]] = [["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget"]]]]
        if !o.failIndexExitCodes.isEmpty {
            let codes: [String: Any] = ["containerName": Self.container, "operator": "In", "values": Array(Set(o.failIndexExitCodes)).sorted()]
            rules.append(["action": "FailIndex", "onExitCodes": codes])
        }
        let jobSpec: [String: Any] = [
            "completionMode": "Indexed", "completions": count,
            "parallelism": min(spec.array?.maxConcurrent ?? count, count),
            "backoffLimitPerIndex": o.backoffLimitPerIndex,
            "podFailurePolicy": ["rules": rules],
            "template": ["metadata": ["labels": labels], "spec": podSpec] as [String: Any],
        ]
        let metadata: [String: Any] = ["generateName": jobPrefix(runID: spec.runID, branch: spec.branch), "namespace": o.namespace,
                                       "labels": labels, "annotations": annotations]
        return ["apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": jobSpec]
    }

    /// requests (memory, cpu, GPUs) and limits (memory: an OOM then is the pod's own, at the
    /// size asked for; GPUs: an extended resource needs its limit).
    static func resourceObject(_ r: Resources, gpuResource: String) -> [String: Any] {
        var requests: [String: String] = [:], limits: [String: String] = [:]
        if let mb = r.memoryMB, mb > 0 { requests["memory"] = ClusterNames.quantity(megabytes: mb); limits["memory"] = requests["memory"] }
        if let c = r.cpus, c > 0 { requests["cpu"] = String(c) }
        if let g = r.gpus, g > 0 { requests[gpuResource] = String(g); limits[gpuResource] = String(g) }
        var out: [String: Any] = [:]
        if !requests.isEmpty { out["requests"] = requests }
        if !limits.isEmpty { out["limits"] = limits }
        return out
    }

    /// `generateName` of a run's Job: lowercase DNS-1123, at most 40 characters, so the pods'
    /// hostnames (`<job>-<index>`, 63 at most) stay valid with Kubernetes' 5-character suffix.
    public static func jobPrefix(runID: String, branch: String) -> String {
        let safe = ClusterNames.labelValue(branch).lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }
        let base = "expt-\(ClusterNames.labelValue(runID).lowercased())-" + String(safe)
        return String(base.prefix(39)).trimmingCharacters(in: CharacterSet(charactersIn: "-.")) + "-"
    }

    /// The container's script: the item of this index, the resume after a disruption, the command.
    static func script(command: String, items: Bool) -> String {
        var lines = ["# written by expt: the run's command, started again from its newest checkpoint after a disruption or a failure"]
        if items {
            lines += ["# JOB_COMPLETION_INDEX k runs the k-th item of EXPT_ITEMS (\"5,28-29\": index 1 is item 28)",
                      #"expt_item() { local i=0 part a b IFS=,; for part in $EXPT_ITEMS; do a=${part%-*}; b=${part#*-}; if (( JOB_COMPLETION_INDEX <= i + b - a )); then echo $(( a + JOB_COMPLETION_INDEX - i )); return; fi; i=$(( i + b - a + 1 )); done; echo "$JOB_COMPLETION_INDEX"; }"#,
                      #"export EXPT_ITEM="$(expt_item)""#]
        }
        lines += ["cmd=" + ShellQuote.quote(command),
                  #"attempt=$(( ${EXPT_INDEX_FAILURES:-0} + ${EXPT_INDEX_IGNORED_FAILURES:-0} ))"#,
                  #"if [ "$attempt" -gt 0 ] && [ -n "${EXPT_RESUME_COMMAND:-}" ] && [ -n "${EXPT_CHECKPOINT_GLOB:-}" ]; then"#,
                  #"  ckpt=$(ls -t -- $EXPT_CHECKPOINT_GLOB 2>/dev/null | head -n 1)"#,
                  #"  if [ -n "$ckpt" ]; then"#,
                  #"    cmd=${EXPT_RESUME_COMMAND//\{checkpoint\}/$(printf '%q' "$ckpt")}"#,
                  #"    echo "expt: attempt $(( attempt + 1 )): resuming from $ckpt" >&2"#,
                  "  fi", "fi",
                  #"exec bash -c "$cmd""#]
        return lines.joined(separator: "\n") + "\n"
    }
}
