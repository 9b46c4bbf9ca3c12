import Foundation

/// Sets up the strict fake `kubectl` and `runai` (Tests/EndToEndTests/Fixtures/fake-kube) for one
/// test: a temp directory with the fake's state, its call log, and `bin/kubectl`, `bin/runai`
/// links to the script (the link's name picks the tool). Write a `Scenario`, put `environment`
/// into the runs (e.g. `ExptBinary.environment`), then read back what the tools were asked to do.
///
/// The fake exits 99 for any call it does not answer (see fake-kube's header for the list), so
/// assert `unexpectedCalls().isEmpty` at the end of every test that uses it.
public final class FakeKube {
    /// How kubectl fails (real kubectl 1.32.4 texts).
    public enum Mode: String, Sendable {
        case ok
        /// KUBECONFIG unset, or a kubeconfig without a current context: kubectl tries localhost:8080.
        case noKubeconfig = "no-kubeconfig"
        case noContext = "no-context"
        /// The API server cannot be reached.
        case unreachable
        /// The account may not create/list/delete Jobs in the namespace (RBAC).
        case forbidden
        /// The namespace does not exist (create: NotFound; get: an empty List).
        case noNamespace = "no-namespace"
    }

    /// How runai fails (composed texts: no real Run:ai CLI error output is public).
    public enum RunAIMode: String, Sendable {
        case ok
        case notLoggedIn = "not-logged-in"
        case noProject = "no-project"
    }

    public enum Tool: String, Sendable, CaseIterable { case kubectl, runai }

    /// One scripted Job: its successive `kubectl get jobs,pods -o json` Lists (JSON text, one Job
    /// and its pods each; each read returns the current one and steps on, the last one sticks),
    /// and what kubectl answers for its pods (keyed by pod name).
    public struct Job: Sendable {
        public var states: [String]
        /// The states after `kubectl delete`; nil: the Job is gone.
        public var afterDelete: [String]?
        /// `kubectl get events` per pod: JSON of an array of events or of a List.
        public var events: [String: String]
        public var logs: [String: String]
        public var previousLogs: [String: String]

        public init(states: [String], afterDelete: [String]? = nil, events: [String: String] = [:],
                    logs: [String: String] = [:], previousLogs: [String: String] = [:]) {
            self.states = states; self.afterDelete = afterDelete; self.events = events; self.logs = logs; self.previousLogs = previousLogs
        }
    }

    /// One scripted Run:ai workload: its successive states, each a list element (JSON text, Run:ai
    /// API field names) and optionally what `describe -o json` prints; and its log.
    public struct Workload: Sendable {
        public struct State: Sendable {
            public var workload: String
            public var describe: String?
            public init(workload: String, describe: String? = nil) { self.workload = workload; self.describe = describe }
        }
        public var states: [State]
        public var logs: String
        public var previousLogs: String?
        public init(states: [State], logs: String = "", previousLogs: String? = nil) {
            self.states = states; self.logs = logs; self.previousLogs = previousLogs
        }
    }

    /// What the cluster and Run:ai look like (scenario.json).
    public struct Scenario: Sendable {
        public var mode: Mode = .ok
        public var runaiMode: RunAIMode = .ok
        /// Namespaces / projects that exist; nil: any.
        public var namespaces: [String]?
        public var projects: [String]?
        /// Which reads step a Job ("get") or a workload ("list", "describe") on.
        public var advanceOn: [String] = ["get", "list"]
        /// The time the states were written at (make-kube.py's anchor): served times are shifted
        /// by now minus this. nil: served as written.
        public var timeAnchor: String? = "2026-01-05T12:00:00Z"
        /// Taken in order by `kubectl create`; a create with none left is an unexpected call.
        public var submissions: [Job] = []
        /// Already on the cluster (their states carry their namespace).
        public var jobs: [Job] = []
        /// For every Job: events JSON and logs by pod name.
        public var events: [String: String] = [:]
        public var logs: [String: String] = [:]
        public var previousLogs: [String: String] = [:]
        /// Taken in order by `runai training submit`; already there.
        public var runaiSubmissions: [Workload] = []
        public var runaiWorkloads: [Workload] = []
        /// "api" (`{"workloads": [...]}`) or "array".
        public var runaiListShape = "api"

        public init(mode: Mode = .ok, submissions: [Job] = [], runaiSubmissions: [Workload] = []) {
            self.mode = mode; self.submissions = submissions; self.runaiSubmissions = runaiSubmissions
        }
    }

    /// One recorded call of either tool.
    public struct Call: Equatable, Sendable {
        public var tool: String
        public var argv: [String]
        /// The manifest `kubectl create -f -` read.
        public var stdin: String
        public var exit: Int
        public var unexpected: Bool
        public var note: String?
    }

    /// A Job as the fake holds it.
    public struct JobRecord: Equatable, Sendable {
        public var name: String
        public var namespace: String
        /// Reads so far (the state served next is min(step, states - 1)).
        public var step: Int
        public var deleted: Bool
        /// The manifest it was created from (JSON text), nil for a Job of `Scenario.jobs`.
        public var manifest: String?
    }

    /// A Run:ai workload as the fake holds it.
    public struct WorkloadRecord: Equatable, Sendable {
        public var name: String
        public var project: String
        public var step: Int
        public var deleted: Bool
        /// The `runai training submit` argv it was created by.
        public var argv: [String]?
    }

    public let root: String
    public let stateDir: String
    public let binDir: String
    public let script: String

    public init(tools: Set<Tool> = Set(Tool.allCases)) throws {
        script = try Self.locateScript()
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("fake-kube-\(UUID().uuidString.prefix(8))").path
        stateDir = root + "/state"
        binDir = root + "/bin"
        try fm.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        for tool in tools { try fm.createSymbolicLink(atPath: binDir + "/" + tool.rawValue, withDestinationPath: script) }
        _ = fm.createFile(atPath: stateDir + "/calls.jsonl", contents: nil)
        try setScenario(Scenario())
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// PATH with the fakes first, and the state directory.
    public var environment: [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return ["PATH": binDir + ":" + path, "EXPT_FAKE_KUBE_STATE": stateDir]
    }

    /// `environment` with `hidden` tools gone from PATH (kubectl is installed on this machine):
    /// PATH becomes the fakes plus one directory linking every other program found on PATH. A
    /// hidden fake is removed from `bin` for the rest of the test.
    public func environment(hiding hidden: Set<String>) throws -> [String: String] {
        let fm = FileManager.default
        let shadow = root + "/path-without-" + hidden.sorted().joined(separator: "-")
        if !fm.fileExists(atPath: shadow) {
            try fm.createDirectory(atPath: shadow, withIntermediateDirectories: true)
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            for dir in path.split(separator: ":").map(String.init) {
                for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where !hidden.contains(name) {
                    let target = dir + "/" + name
                    if !fm.fileExists(atPath: shadow + "/" + name), fm.isExecutableFile(atPath: target) {
                        try? fm.createSymbolicLink(atPath: shadow + "/" + name, withDestinationPath: target)
                    }
                }
            }
        }
        for name in (try? fm.contentsOfDirectory(atPath: binDir)) ?? [] where hidden.contains(name) {
            try fm.removeItem(atPath: binDir + "/" + name)
        }
        return ["PATH": binDir + ":" + shadow, "EXPT_FAKE_KUBE_STATE": stateDir]
    }

    /// Writes scenario.json (and forgets the fake's own record, so it starts over from it).
    public func setScenario(_ s: Scenario) throws {
        func parsed(_ text: String, _ what: String) throws -> Any {
            do { return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
            catch { throw Failure(description: "FakeKube: \(what) is not JSON: \(error)") }
        }
        func job(_ j: Job) throws -> [String: Any] {
            var m: [String: Any] = ["states": try j.states.enumerated().map { try parsed($1, "state \($0)") },
                                    "events": try j.events.mapValues { try parsed($0, "events JSON") },
                                    "logs": j.logs, "previous_logs": j.previousLogs]
            if let after = j.afterDelete { m["after_delete"] = try after.map { try parsed($0, "after_delete state") } }
            return m
        }
        func workload(_ w: Workload) throws -> [String: Any] {
            var m: [String: Any] = ["logs": w.logs]
            if let p = w.previousLogs { m["previous_logs"] = p }
            m["states"] = try w.states.map { st -> [String: Any] in
                var o: [String: Any] = ["workload": try parsed(st.workload, "workload JSON")]
                if let d = st.describe { o["describe"] = try parsed(d, "describe JSON") }
                return o
            }
            return m
        }
        var obj: [String: Any] = [
            "mode": s.mode.rawValue, "runai_mode": s.runaiMode.rawValue, "advance_on": s.advanceOn,
            "submissions": try s.submissions.map(job), "jobs": try s.jobs.map(job),
            "events": try s.events.mapValues { try parsed($0, "events JSON") }, "logs": s.logs, "previous_logs": s.previousLogs,
            "runai_submissions": try s.runaiSubmissions.map(workload), "runai_workloads": try s.runaiWorkloads.map(workload),
            "runai_list_shape": s.runaiListShape]
        if let a = s.timeAnchor { obj["time_anchor"] = a }
        if let n = s.namespaces { obj["namespaces"] = n }
        if let p = s.projects { obj["projects"] = p }
        try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: stateDir + "/scenario.json"))
        for file in ["cluster.json", "mode", "runai_mode"] { try? FileManager.default.removeItem(atPath: stateDir + "/" + file) }
    }

    /// Switches a mode for later calls (also for an `expt` already configured with `environment`).
    public func setMode(_ mode: Mode) throws { try mode.rawValue.write(toFile: stateDir + "/mode", atomically: true, encoding: .utf8) }
    public func setRunAIMode(_ mode: RunAIMode) throws {
        try mode.rawValue.write(toFile: stateDir + "/runai_mode", atomically: true, encoding: .utf8)
    }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        guard let text = try? String(contentsOfFile: stateDir + "/calls.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Call(tool: o["tool"] as? String ?? "", argv: o["argv"] as? [String] ?? [], stdin: o["stdin"] as? String ?? "",
                        exit: o["exit"] as? Int ?? -1, unexpected: o["unexpected"] as? Bool ?? false, note: o["note"] as? String)
        }
    }

    /// Calls the fake refused (exit 99): each one is a bug in the code under test.
    public func unexpectedCalls() -> [Call] { calls().filter(\.unexpected) }

    /// The argv of every call of `tool`, e.g. to assert the exact submit.
    public func argvs(_ tool: Tool) -> [[String]] { calls().filter { $0.tool == tool.rawValue }.map(\.argv) }

    /// The Jobs the fake holds (newest first); empty before any call.
    public func jobs() -> [JobRecord] {
        (record()?["jobs"] as? [[String: Any]] ?? []).map { j in
            let manifest = (j["manifest"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
            return JobRecord(name: j["name"] as? String ?? "", namespace: j["namespace"] as? String ?? "", step: j["step"] as? Int ?? 0,
                             deleted: j["deleted"] as? Bool ?? false, manifest: manifest.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// The Run:ai workloads the fake holds (newest first).
    public func workloads() -> [WorkloadRecord] {
        (record()?["workloads"] as? [[String: Any]] ?? []).map { w in
            WorkloadRecord(name: w["name"] as? String ?? "", project: w["project"] as? String ?? "", step: w["step"] as? Int ?? 0,
                           deleted: w["deleted"] as? Bool ?? false, argv: w["argv"] as? [String])
        }
    }

    /// Makes the cluster forget a Job (deleted by someone else, or garbage-collected).
    public func forgetJob(_ name: String) throws {
        guard var obj = record(), let list = obj["jobs"] as? [[String: Any]] else {
            throw Failure(description: "FakeKube: no cluster record yet (make one call first)")
        }
        obj["jobs"] = list.filter { $0["name"] as? String != name }
        try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: stateDir + "/cluster.json"))
    }

    private func record() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: stateDir + "/cluster.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    // MARK: fixtures

    /// Tests/ExptBackendsTests/Fixtures/kubernetes and …/runai (see SOURCES.md there).
    public static var fixturesDirectory: String { fixtures("kubernetes") }
    public static var runaiFixturesDirectory: String { fixtures("runai") }

    static func fixtures(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/ExptBackendsTests/Fixtures/\(name)").standardized.path
    }

    /// The text of one Kubernetes fixture, e.g. `job-20-items-2-oom.json`.
    public static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: fixturesDirectory + "/" + name, encoding: .utf8)
    }

    /// The text of one Run:ai fixture, e.g. `training-describe-overquota.json`.
    public static func runaiFixture(_ name: String) throws -> String {
        try String(contentsOfFile: runaiFixturesDirectory + "/" + name, encoding: .utf8)
    }

    /// The workload called `name` of a list fixture (`{"workloads": [...]}` or an array), as JSON text.
    public static func workload(_ name: String, inList json: String) throws -> String {
        let top = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let list = (top as? [[String: Any]]) ?? ((top as? [String: Any])?["workloads"] as? [[String: Any]]) ?? []
        guard let w = list.first(where: { $0["name"] as? String == name }) else {
            throw Failure(description: "FakeKube: no workload \(name) in the list")
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: w, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The pods of a List fixture, oldest first: name, completion index (annotation) and phase,
    /// e.g. to key `Job.logs` and `Job.events` by the pod of item 7.
    public static func pods(inList json: String) throws -> [(name: String, index: Int?, phase: String?)] {
        let items = (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        return items.filter { $0["kind"] as? String == "Pod" }.map { p in
            let meta = p["metadata"] as? [String: Any] ?? [:]
            let index = (meta["annotations"] as? [String: String])?["batch.kubernetes.io/job-completion-index"].flatMap { Int($0) }
            return (meta["name"] as? String ?? "", index, (p["status"] as? [String: Any])?["phase"] as? String)
        }
    }

    /// `json` with `change` applied to it as a JSON object.
    public static func edit(_ json: String, _ change: (inout [String: Any]) throws -> Void) throws -> String {
        guard var obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw Failure(description: "FakeKube.edit: not a JSON object")
        }
        try change(&obj)
        return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
    }

    /// fake-kube in the source tree (or `EXPT_FAKE_KUBE`).
    public static func locateScript() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPT_FAKE_KUBE"] { return p }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/EndToEndTests/Fixtures/fake-kube").standardized.path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Failure(description: "the fake kubectl/runai is not at \(path) (or not executable)")
        }
        return path
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}
