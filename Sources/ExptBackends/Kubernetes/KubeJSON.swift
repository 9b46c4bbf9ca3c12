import Foundation
import ExptModel

/// One Kubernetes Job (`batch/v1`) as `kubectl get jobs,pods -n NS -l expt.run -o json` lists it,
/// reduced to what expt reads. Pure values.
///
/// Field names: k8s.io/api batch/v1 `JobSpec`/`JobStatus` (docs/backends/kubernetes.md lists them
/// with their sources); conditions and reasons: backends research §2.1. Decoding is defensive: only
/// `metadata.name` is required, an absent field is nil (or 0 for the pod counts, as the API omits
/// zeros), a present field of the wrong type is an error naming it.
public struct KubeJob: Sendable, Equatable {
    /// `status.conditions[]`: Complete, Failed, FailureTarget, SuccessCriteriaMet, Suspended.
    public struct Condition: Sendable, Equatable {
        public var type: String
        /// "True", "False" or "Unknown".
        public var status: String
        /// PodFailurePolicy, BackoffLimitExceeded, DeadlineExceeded, MaxFailedIndexesExceeded,
        /// FailedIndexes, SuccessPolicy, CompletionsReached, …
        public var reason: String?
        public var message: String?
        public var lastTransitionTime: Date?
        public var isTrue: Bool { status == "True" }
        public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: Date? = nil) {
            self.type = type; self.status = status; self.reason = reason; self.message = message
            self.lastTransitionTime = lastTransitionTime
        }
    }

    // metadata
    public var name: String
    public var namespace: String?
    public var uid: String?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var createdAt: Date?
    // spec
    public var completions: Int?
    public var parallelism: Int?
    /// "Indexed" or "NonIndexed" (the API's default when absent).
    public var completionMode: String?
    public var backoffLimitPerIndex: Int?
    public var activeDeadlineSeconds: Int?
    public var suspend: Bool
    // status
    public var conditions: [Condition]
    /// `status.completedIndexes` / `status.failedIndexes`, expanded from "1,3-5,7". `failedIndexes`
    /// is nil when the API did not print it (only Jobs with `backoffLimitPerIndex` have it).
    public var completedIndexes: [Int]
    public var failedIndexes: [Int]?
    /// Pending and running pods; pods that succeeded / failed (every attempt); ready; terminating.
    public var active: Int
    public var succeeded: Int
    public var failed: Int
    public var ready: Int
    public var terminating: Int
    public var startTime: Date?
    public var completionTime: Date?

    public init(name: String, namespace: String? = nil, uid: String? = nil, labels: [String: String] = [:],
                annotations: [String: String] = [:], createdAt: Date? = nil, completions: Int? = nil, parallelism: Int? = nil,
                completionMode: String? = nil, backoffLimitPerIndex: Int? = nil, activeDeadlineSeconds: Int? = nil,
                suspend: Bool = false, conditions: [Condition] = [], completedIndexes: [Int] = [], failedIndexes: [Int]? = nil,
                active: Int = 0, succeeded: Int = 0, failed: Int = 0, ready: Int = 0, terminating: Int = 0,
                startTime: Date? = nil, completionTime: Date? = nil) {
        self.name = name; self.namespace = namespace; self.uid = uid; self.labels = labels; self.annotations = annotations
        self.createdAt = createdAt; self.completions = completions; self.parallelism = parallelism
        self.completionMode = completionMode; self.backoffLimitPerIndex = backoffLimitPerIndex
        self.activeDeadlineSeconds = activeDeadlineSeconds; self.suspend = suspend; self.conditions = conditions
        self.completedIndexes = completedIndexes; self.failedIndexes = failedIndexes; self.active = active
        self.succeeded = succeeded; self.failed = failed; self.ready = ready; self.terminating = terminating
        self.startTime = startTime; self.completionTime = completionTime
    }

    /// The run that submitted it (label `expt.run`).
    public var runID: String? { labels[KubeJobManifest.runLabel] }

    /// The condition of `type` that is True, if any.
    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type && $0.isTrue } }

    /// Complete or Failed: the Job will start no more pods.
    public var isFinished: Bool { condition("Complete") != nil || condition("Failed") != nil }

    /// The run's items in completion-index order (annotation `expt.items`, see `KubeJobManifest`);
    /// nil for a Job expt did not write, whose indexes are the items.
    public var items: [Int]? { annotations[KubeJobManifest.itemsAnnotation].flatMap(KubeIndexes.parse) }

    /// The number of indexes: `spec.completions`, else the items, else 1.
    public var indexCount: Int { completions ?? items?.count ?? 1 }

    /// The item completion index `index` runs (the index itself when the Job has no item list).
    public func item(ofIndex index: Int) -> Int {
        guard let items, index >= 0, index < items.count else { return index }
        return items[index]
    }
}

/// What one `kubectl get jobs,pods -o json` returned: the Jobs and every pod listed with them.
public struct KubeList: Sendable, Equatable {
    public var jobs: [KubeJob]
    public var pods: [PodFacts]
    public init(jobs: [KubeJob], pods: [PodFacts]) { self.jobs = jobs; self.pods = pods }

    public func job(named name: String) -> KubeJob? { jobs.first { $0.name == name } }

    /// The pods of `job` by completion index, oldest first (the last one is the index's latest
    /// attempt). A pod of a Job without indexes (NonIndexed) counts as index 0.
    public func pods(of job: KubeJob) -> [Int: [PodFacts]] {
        var out: [Int: [PodFacts]] = [:]
        for pod in pods where pod.jobName == job.name {
            out[pod.completionIndex ?? 0, default: []].append(pod)
        }
        return out.mapValues { $0.sorted { ($0.createdAt ?? .distantPast, $0.name) < ($1.createdAt ?? .distantPast, $1.name) } }
    }
}

/// Parses kubectl's JSON. Errors are `.external` and name the command and the field.
public enum KubeJSON {
    /// `kubectl get jobs,pods -n NS -l SELECTOR -o json`: `{"kind": "List", "items": [...]}` with
    /// Job and Pod items (other kinds are skipped). Also reads a `JobList` or a single Job.
    public static func list(_ output: String, command: String) throws -> KubeList {
        let text = try ArgoJSON.payload(output, command: command)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw ExptError(.external, "could not parse the output of `\(command)`: the JSON is malformed (\(error.localizedDescription)); "
                                + "it is \(text.utf8.count) bytes long")
        }
        guard let top = object as? [String: Any] else { throw problem(command, "expected a JSON object (a List), got an array or a value") }
        if top["kind"] as? String == "Job" { return KubeList(jobs: [try job(top, at: "", command: command)], pods: []) }
        guard let items = top["items"] else { throw problem(command, "missing field 'items'") }
        guard let list = items as? [Any] else {
            if items is NSNull { return KubeList(jobs: [], pods: []) }
            throw problem(command, "field 'items' is not an array")
        }
        let defaultKind = (top["kind"] as? String).flatMap { $0.hasSuffix("List") && $0 != "List" ? String($0.dropLast(4)) : nil }
        var jobs: [KubeJob] = [], pods: [PodFacts] = []
        for (i, element) in list.enumerated() {
            guard let item = element as? [String: Any] else { throw problem(command, "items[\(i)] is not an object") }
            switch (item["kind"] as? String) ?? defaultKind ?? "" {
            case "Job": jobs.append(try job(item, at: "items[\(i)].", command: command))
            case "Pod":
                do { pods.append(try PodFacts.parse(object: item, command: command)) } catch {
                    throw problem(command, "items[\(i)] (Pod): missing field 'metadata.name'")
                }
            case "": throw problem(command, "items[\(i)] has no 'kind'")
            default: continue
            }
        }
        return KubeList(jobs: jobs, pods: pods)
    }

    static func job(_ o: [String: Any], at path: String, command: String) throws -> KubeJob {
        let f = Fields(object: o, path: path, command: command)
        guard let name = try f.string("metadata.name") else { throw problem(command, "\(path.isEmpty ? "" : String(path.dropLast()) + " (Job): ")missing field 'metadata.name'") }
        return KubeJob(name: name, namespace: try f.string("metadata.namespace"), uid: try f.string("metadata.uid"),
                       labels: try f.strings("metadata.labels"), annotations: try f.strings("metadata.annotations"),
                       createdAt: try f.date("metadata.creationTimestamp"), completions: try f.int("spec.completions"),
                       parallelism: try f.int("spec.parallelism"), completionMode: try f.string("spec.completionMode"),
                       backoffLimitPerIndex: try f.int("spec.backoffLimitPerIndex"),
                       activeDeadlineSeconds: try f.int("spec.activeDeadlineSeconds"), suspend: try f.bool("spec.suspend") ?? false,
                       conditions: try f.conditions("status.conditions"), completedIndexes: try f.indexes("status.completedIndexes") ?? [],
                       failedIndexes: try f.indexes("status.failedIndexes"), active: try f.int("status.active") ?? 0,
                       succeeded: try f.int("status.succeeded") ?? 0, failed: try f.int("status.failed") ?? 0,
                       ready: try f.int("status.ready") ?? 0, terminating: try f.int("status.terminating") ?? 0,
                       startTime: try f.date("status.startTime"), completionTime: try f.date("status.completionTime"))
    }

    static func problem(_ command: String, _ what: String) -> ExptError {
        ExptError(.external, "could not parse the output of `\(command)`: \(what)",
                  hint: "expt reads the Job and Pod objects of Kubernetes 1.28 or later; if this cluster prints them differently, "
                      + "please report it with that command's output")
    }

    /// Dotted paths into one object; a present value of the wrong type throws, naming the field.
    struct Fields {
        let object: [String: Any]
        let path: String
        let command: String

        func value(_ key: String) -> Any? {
            var current: Any? = object
            for part in key.split(separator: ".") {
                current = (current as? [String: Any])?[String(part)]
            }
            return current is NSNull ? nil : current
        }
        func wrong(_ key: String, _ type: String) -> ExptError { KubeJSON.problem(command, "field '\(path)\(key)' is not \(type)") }

        func string(_ key: String) throws -> String? {
            guard let v = value(key) else { return nil }
            guard let s = v as? String else { throw wrong(key, "a string") }
            return s
        }
        func int(_ key: String) throws -> Int? {
            guard let v = value(key) else { return nil }
            if let i = v as? Int { return i }
            if let d = v as? Double, d == d.rounded() { return Int(d) }
            throw wrong(key, "an integer")
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = value(key) else { return nil }
            guard let b = v as? Bool else { throw wrong(key, "true or false") }
            return b
        }
        func date(_ key: String) throws -> Date? {
            guard let s = try string(key) else { return nil }
            guard let d = ArgoTime.parse(s) else { throw wrong(key, "an RFC 3339 time") }
            return d
        }
        func strings(_ key: String) throws -> [String: String] {
            guard let v = value(key) else { return [:] }
            guard let m = v as? [String: String] else { throw wrong(key, "a map of strings") }
            return m
        }
        func indexes(_ key: String) throws -> [Int]? {
            guard let s = try string(key) else { return nil }
            guard let list = KubeIndexes.parse(s) else { throw wrong(key, "an index list like \"1,3-5,7\" (got '\(s.prefix(60))')") }
            return list
        }
        func conditions(_ key: String) throws -> [KubeJob.Condition] {
            guard let v = value(key) else { return [] }
            guard let list = v as? [[String: Any]] else { throw wrong(key, "an array of objects") }
            return try list.enumerated().map { i, c -> KubeJob.Condition in
                let f = Fields(object: c, path: "\(path)\(key)[\(i)].", command: command)
                guard let type = try f.string("type"), let status = try f.string("status") else {
                    throw KubeJSON.problem(command, "\(path)\(key)[\(i)] has no 'type' or 'status'")
                }
                return KubeJob.Condition(type: type, status: status, reason: try f.string("reason"), message: try f.string("message"),
                                         lastTransitionTime: try f.date("lastTransitionTime"))
            }
        }
    }
}
