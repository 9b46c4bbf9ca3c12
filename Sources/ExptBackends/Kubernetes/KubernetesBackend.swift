import Foundation
import ExptModel

/// Kubernetes Indexed Jobs (docs/backends/kubernetes.md): one Job per run, one completion index
/// per item (`KubeJobManifest`). Polling is ONE `kubectl get jobs,pods -l expt.run -o json` for
/// every run of the repository; a relaunch over some items is a fresh Job over just those.
public struct KubernetesBackend: Backend {
    public let name = "kubernetes"
    public let settings: KubernetesSettings
    let runner: ProcessRunner
    let runsDir: String
    let now: @Sendable () -> Date
    /// The Job template (`templates/k8s-job.json`, or the repository's `.expt/templates/` copy):
    /// what the cluster needs of every Job (volumes, node selectors, tolerations, mounts),
    /// merged under what expt generates.
    let jobTemplate: String?

    public init(settings: KubernetesSettings, runner: ProcessRunner, runsDir: String, jobTemplate: String? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings; self.runsDir = runsDir; self.now = now; self.jobTemplate = jobTemplate
        self.runner = ClusterRunner.make(runner, execPrefix: settings.execPrefix, env: settings.env)
    }

    var namespace: String { settings.namespace ?? "default" }
    var stuckAfter: TimeInterval { TimeInterval(settings.stuckAfter.flatMap(Units.seconds) ?? 600) }

    var options: KubeJobManifest.Options {
        KubeJobManifest.Options(namespace: namespace, image: settings.image ?? "", backoffLimitPerIndex: settings.backoffLimitPerIndex ?? 1,
                                failIndexExitCodes: settings.failIndexExitCodes ?? [126, 127], serviceAccount: settings.serviceAccount,
                                gpuResource: settings.gpuResource ?? "nvidia.com/gpu", workingDir: settings.workingDir,
                                labels: settings.labels ?? [:], priorityClassName: settings.priorityClassName)
    }

    public func submit(_ spec: JobSpec) throws -> JobRef {
        guard settings.image != nil else {
            throw ExptError(.invalidInput, "[kubernetes] names no image to run", hint: "set image = \"<registry>/<image>:<tag>\" in expt.toml")
        }
        let manifest = try KubeJobTemplate.merged(try KubeJobManifest.render(spec: spec, options: options), template: jobTemplate)
        let argv = ["kubectl", "create", "-f", "-", "-n", namespace, "-o", "name"]
        let r = try KubeCLI.check(runner.run(argv, stdin: Data(manifest.utf8), environment: nil, cwd: nil), argv, namespace: namespace,
                                  hint: "check the namespace (`kubectl get namespace \(namespace)`) and the image")
        guard let job = KubeCLI.createdName(r.stdout), !job.isEmpty else { throw ExptError(.external, "`\(ShellQuote.join(argv))` printed no Job name: \(r.stdout.prefix(200))") }
        return JobRef(backend: name, jobID: job)
    }

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        guard !refs.isEmpty else { return [:] }
        let argv = ["kubectl", "get", "jobs,pods", "-n", namespace, "-l", KubeJobManifest.runLabel, "-o", "json"]
        let list = try KubeJSON.list(KubeCLI.check(runner.run(argv), argv, namespace: namespace).stdout, command: ShellQuote.join(argv))
        var out: [JobRef: JobStatus] = [:]
        var eventsBudget = 25
        for ref in refs {
            guard let job = list.job(named: ref.jobID) else { continue }
            let pods = list.pods(of: job)
            let status = KubeIndexes.jobStatus(ref: ref, job: job, pods: pods, now: now(), stuckAfter: stuckAfter)
            if let runID = job.runID {
                let files = RunFiles(runsDir: runsDir, runID: runID)
                var latest: [Int: String] = [:]
                for (index, attempts) in pods { if let p = attempts.last { latest[job.item(ofIndex: index)] = p.name } }
                files.saveItems(status.tasks.map(\.index), pods: latest)
                // A failed pod's facts and events, once, when first seen: pods do not last.
                for task in status.tasks where task.state.isFailure && task.state != .preempted && eventsBudget > 0 {
                    guard !files.hasPodFacts(item: task.index), let index = (0..<job.indexCount).first(where: { job.item(ofIndex: $0) == task.index }),
                          var facts = pods[index]?.last else { continue }
                    eventsBudget -= 1
                    let ev = ["kubectl", "get", "events", "-n", namespace, "--field-selector", "involvedObject.name=\(facts.name)", "-o", "json"]
                    if let e = try? runner.run(ev), e.status == 0, let events = try? PodFacts.parse(events: e.stdout, command: ShellQuote.join(ev)) {
                        facts.events = events
                    }
                    files.savePodFacts(item: task.index, facts.report(now: now(), threshold: stuckAfter))
                }
            }
            out[ref] = status
        }
        return out
    }

    public func cancel(_ ref: JobRef) throws {
        let argv = ["kubectl", "delete", "job", ref.jobID, "-n", namespace, "--cascade=foreground"]
        _ = try KubeCLI.check(runner.run(argv), argv, namespace: namespace)
    }

    /// Per item: the pod's log (`kubectl logs`), and the pod facts saved when it failed.
    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let files = RunFiles(runsDir: runsDir, runID: spec.runID)
        let known = spec.array?.indices ?? files.items()
        let items: [Int?] = spec.array == nil && known.count <= 1 ? [nil] : known.map { Optional($0) }
        return items.flatMap { i -> [LogSource] in
            [LogSource(kind: .stdout, path: "kube://\(namespace)/\(spec.runID)/\(i.map(String.init) ?? "0")", remote: true, task: i),
             LogSource(kind: .stderr, path: files.podFactsPath(item: i ?? 0), remote: false, task: i)]
        }
    }

    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        guard source.path.hasPrefix("kube://") else { return try LocalLogFile.read(source.path, range) }
        let parts = source.path.dropFirst("kube://".count).split(separator: "/").map(String.init)
        guard parts.count == 3, let item = Int(parts[2]) else { throw ExptError(.failure, "not a Kubernetes log source: \(source.path)") }
        guard let pod = RunFiles(runsDir: runsDir, runID: parts[1]).pods()[item] else {
            throw ExptError(.notFound, "item \(item) of run \(parts[1]) has no pod yet")
        }
        let argv = ["kubectl", "logs", pod, "-n", parts[0], "-c", KubeJobManifest.container]
        return LogChunk.slice(Array(try KubeCLI.check(runner.run(argv), argv, namespace: namespace).stdout.utf8), range)
    }

    /// The Job whose annotation carries the launch's job name.
    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        let argv = ["kubectl", "get", "jobs,pods", "-n", namespace, "-l", "\(KubeJobManifest.runLabel)=\(spec.runID)", "-o", "json"]
        let list = try KubeJSON.list(KubeCLI.check(runner.run(argv), argv, namespace: namespace).stdout, command: ShellQuote.join(argv))
        return list.jobs.first { $0.annotations[KubeJobManifest.jobNameAnnotation] == jobName || $0.runID == spec.runID }
            .map { JobRef(backend: name, jobID: $0.name) }
    }

    public func pendingVerdict(reason: String?) -> PendingVerdict {
        guard let reason, let bad = KubeIndexes.blockingReasons.first(where: { reason.contains($0) }) else { return .waiting }
        return .blocked("the pod cannot start as submitted (\(bad))")
    }

    public var files: ClusterFiles {
        (settings.execPrefix ?? []).isEmpty ? LocalFiles()
            : RemoteFiles(runner: runner, hostDescription: "the host reached by exec_prefix \(ShellQuote.join(settings.execPrefix ?? []))")
    }
}

/// The `[kubernetes]` table of expt.toml; every key is optional but `image` for a launch.
public struct KubernetesSettings: Decodable, Sendable, Equatable {
    public var namespace: String?
    /// The container image the command runs in.
    public var image: String?
    /// The command's working directory in the container (default: the image's).
    public var workingDir: String?
    public var backoffLimitPerIndex: Int?
    /// Exit codes that fail an index at once (default 126, 127).
    public var failIndexExitCodes: [Int]?
    public var serviceAccount: String?
    public var gpuResource: String?
    public var priorityClassName: String?
    public var labels: [String: String]?
    /// How long a pod may wait to start before its item counts as stuck; default "10m".
    public var stuckAfter: String?
    public var execPrefix: [String]?
    public var env: [String: String]?
}

extension KubernetesBackend {
    public static let entry = BackendEntry(name: "kubernetes", settings: KubernetesSettings.self) { s, context in
        if let t = s.stuckAfter, Units.seconds(t) == nil {
            throw ExptError(.invalidInput, "[kubernetes] stuck_after '\(t)' is not a duration like 10m or 00:10:00")
        }
        return KubernetesBackend(settings: s, runner: context.runner, runsDir: context.runsDir,
                                 jobTemplate: try context.templates.text("k8s-job.json"))
    }
}

/// The Job template: any fields of a Job (volumes, `nodeSelector`, `tolerations`,
/// the main container's `volumeMounts`, …) that expt's own manifest lacks. expt's fields win
/// (indexes, labels, resources, command); lists of named things (containers, volumes, env) are
/// merged by name, so a template's `main` container keeps its mounts.
enum KubeJobTemplate {
    static func merged(_ generated: String, template: String?) throws -> String {
        guard let template else { return generated }
        guard let base = try? JSONSerialization.jsonObject(with: Data(template.utf8)) as? [String: Any] else {
            throw ExptError(.invalidInput, "the Job template k8s-job.json (.expt/templates/ or shipped) is not a JSON object",
                            hint: "write a Job (or the fields to add to one) as JSON")
        }
        guard let own = try JSONSerialization.jsonObject(with: Data(generated.utf8)) as? [String: Any] else { return generated }
        let out = merge(base, own)
        let text = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: text, as: UTF8.self) + "\n"
    }

    static func merge(_ base: Any, _ over: Any) -> Any {
        if let b = base as? [String: Any], let o = over as? [String: Any] {
            var out = b
            for (k, v) in o { out[k] = b[k].map { merge($0, v) } ?? v }
            return out
        }
        if let b = base as? [[String: Any]], let o = over as? [[String: Any]],
           b.allSatisfy({ $0["name"] is String }), o.allSatisfy({ $0["name"] is String }) {
            var out = b.map { item -> [String: Any] in
                guard let match = o.first(where: { $0["name"] as? String == item["name"] as? String }) else { return item }
                return merge(item, match) as? [String: Any] ?? match
            }
            out += o.filter { item in !b.contains { $0["name"] as? String == item["name"] as? String } }
            return out
        }
        return over
    }
}
