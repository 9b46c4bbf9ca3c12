import Foundation

/// Sets up the strict fake `argo` and `kubectl` (Tests/EndToEndTests/Fixtures/fake-argo and
/// fake-kubectl) for one test: a temp directory with the fakes' state, their call log, and
/// `bin/argo`, `bin/kubectl` links to the scripts. Write a `Scenario`, put `environment` into the
/// runs (e.g. `ExptBinary.environment`), then read back what the tools were asked to do.
///
/// The fakes exit 99 for any call they do not answer (see fake-argo's header for the list), so
/// assert `unexpectedCalls().isEmpty` at the end of every test that uses them.
public final class FakeArgo {
    /// How the fakes fail (argo's and kubectl's own error texts).
    public enum Mode: String, Sendable {
        case ok
        /// KUBECONFIG unset or empty.
        case noKubeconfig = "no-kubeconfig"
        /// The API server cannot be reached.
        case unreachable
        /// The service account may not list/get/create in the namespace.
        case forbidden
        /// `--from workflowtemplate/NAME` names no template.
        case noTemplate = "no-template"
        /// The namespace does not exist (list answers [], get/submit NotFound).
        case noNamespace = "no-namespace"
    }

    /// Argo's error format: v3 logs through logrus (`time="…" level=fatal msg="…"`), v4 through cobra (`Error: …`).
    public enum ErrorStyle: String, Sendable { case v3, v4 }

    public enum Tool: String, Sendable, CaseIterable { case argo, kubectl }

    /// One scripted workflow: its successive `argo get -o json` states (JSON text; each read
    /// returns the current one and steps on, the last one sticks) and what kubectl and
    /// `argo logs` answer for its pods (keyed by pod name).
    public struct Workflow: Sendable {
        public var states: [String]
        /// The states after `argo stop`; nil: the fake marks unfinished nodes Failed itself.
        public var afterStop: [String]?
        /// `kubectl get pod` JSON per pod.
        public var pods: [String: String]
        /// `kubectl get events` per pod: JSON of an array of events or of a List.
        public var events: [String: String]
        /// Log text per pod (`argo logs` prefixes each line with `<pod>: `).
        public var logs: [String: String]
        public var previousLogs: [String: String]

        public init(states: [String], afterStop: [String]? = nil, pods: [String: String] = [:],
                    events: [String: String] = [:], logs: [String: String] = [:], previousLogs: [String: String] = [:]) {
            self.states = states; self.afterStop = afterStop; self.pods = pods; self.events = events
            self.logs = logs; self.previousLogs = previousLogs
        }
    }

    /// What the cluster looks like (scenario.json).
    public struct Scenario: Sendable {
        public var mode: Mode = .ok
        public var errorStyle: ErrorStyle = .v3
        /// Namespaces that exist; nil: any.
        public var namespaces: [String]?
        /// WorkflowTemplates that exist; nil: any.
        public var templates: [String]?
        /// Which reads step a workflow on: "list", "get".
        public var advanceOn: [String] = ["list", "get"]
        /// False: `argo list` omits status.nodes (offloaded nodes, or a server that strips them).
        public var listNodes = true
        /// Taken in order by `argo submit`; a submit with none left is an unexpected call.
        public var submissions: [Workflow] = []
        /// Already on the cluster (their states carry their namespace).
        public var workflows: [Workflow] = []
        /// For every workflow: pod JSON, events JSON, logs by pod name.
        public var pods: [String: String] = [:]
        public var events: [String: String] = [:]
        public var logs: [String: String] = [:]
        public var previousLogs: [String: String] = [:]

        public init(mode: Mode = .ok, submissions: [Workflow] = [], workflows: [Workflow] = []) {
            self.mode = mode; self.submissions = submissions; self.workflows = workflows
        }
    }

    /// One recorded call of either tool.
    public struct Call: Equatable, Sendable {
        public var tool: String
        public var argv: [String]
        public var stdin: String
        public var exit: Int
        public var unexpected: Bool
        /// What the fake noticed, e.g. "repeated -l: argo keeps only the last (…)".
        public var note: String?
        /// Workflow files `argo submit` read (path, or `-` for stdin) and their content.
        public var files: [String: String]
    }

    /// A workflow as the fake holds it (workflows.json).
    public struct Record: Equatable, Sendable {
        public var name: String
        public var namespace: String
        /// Reads so far (the state served next is min(step, states - 1)).
        public var step: Int
        public var stopped: Bool
        /// `-l` labels and `-p` parameters of its submission, and its `--from` template.
        public var labels: [String: String]
        public var parameters: [String: String]
        public var template: String?
    }

    public let root: String
    public let stateDir: String
    public let binDir: String
    public let script: String

    public init(tools: Set<Tool> = Set(Tool.allCases)) throws {
        script = try Self.locateScript()
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("fake-argo-\(UUID().uuidString.prefix(8))").path
        stateDir = root + "/state"
        binDir = root + "/bin"
        try fm.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        let dir = URL(fileURLWithPath: script).deletingLastPathComponent().path
        for tool in tools {
            try fm.createSymbolicLink(atPath: binDir + "/" + tool.rawValue, withDestinationPath: dir + "/fake-" + tool.rawValue)
        }
        _ = fm.createFile(atPath: stateDir + "/calls.jsonl", contents: nil)
        try setScenario(Scenario())
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// PATH with the fakes first, and the state directory.
    public var environment: [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return ["PATH": binDir + ":" + path, "EXPT_FAKE_ARGO_STATE": stateDir]
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
            try fm.removeItem(atPath: binDir + "/" + name)          // the fake goes too, for good
        }
        return ["PATH": binDir + ":" + shadow, "EXPT_FAKE_ARGO_STATE": stateDir]
    }

    /// Writes scenario.json (and forgets the fake's own record, so it starts over from it).
    public func setScenario(_ scenario: Scenario) throws {
        func parsed(_ text: String, _ what: String) throws -> Any {
            do { return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
            catch { throw Failure(description: "FakeArgo: \(what) is not JSON: \(error)") }
        }
        func maps(_ w: Workflow) throws -> [String: Any] {
            var m: [String: Any] = [
                "states": try w.states.enumerated().map { try parsed($1, "state \($0)") },
                "pods": try w.pods.mapValues { try parsed($0, "pod JSON") },
                "events": try w.events.mapValues { try parsed($0, "events JSON") },
                "logs": w.logs, "previous_logs": w.previousLogs]
            if let after = w.afterStop { m["after_stop"] = try after.map { try parsed($0, "after_stop state") } }
            return m
        }
        var obj: [String: Any] = [
            "mode": scenario.mode.rawValue, "error_style": scenario.errorStyle.rawValue,
            "advance_on": scenario.advanceOn, "list_nodes": scenario.listNodes,
            "submissions": try scenario.submissions.map(maps), "workflows": try scenario.workflows.map(maps),
            "pods": try scenario.pods.mapValues { try parsed($0, "pod JSON") },
            "events": try scenario.events.mapValues { try parsed($0, "events JSON") },
            "logs": scenario.logs, "previous_logs": scenario.previousLogs]
        if let n = scenario.namespaces { obj["namespaces"] = n }
        if let t = scenario.templates { obj["templates"] = t }
        let data = try JSONSerialization.data(withJSONObject: obj)
        try data.write(to: URL(fileURLWithPath: stateDir + "/scenario.json"))
        try? FileManager.default.removeItem(atPath: stateDir + "/workflows.json")
        try? FileManager.default.removeItem(atPath: stateDir + "/mode")
    }

    /// Switches the mode for later calls (also for an `expt` already configured with `environment`).
    public func setMode(_ mode: Mode) throws {
        try mode.rawValue.write(toFile: stateDir + "/mode", atomically: true, encoding: .utf8)
    }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        guard let text = try? String(contentsOfFile: stateDir + "/calls.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Call(tool: o["tool"] as? String ?? "", argv: o["argv"] as? [String] ?? [], stdin: o["stdin"] as? String ?? "",
                        exit: o["exit"] as? Int ?? -1, unexpected: o["unexpected"] as? Bool ?? false,
                        note: o["note"] as? String, files: o["files"] as? [String: String] ?? [:])
        }
    }

    /// Calls the fakes refused (exit 99): each one is a bug in the code under test.
    public func unexpectedCalls() -> [Call] { calls().filter(\.unexpected) }

    /// The argv of every call of `tool`, e.g. to assert the exact submit.
    public func argvs(_ tool: Tool) -> [[String]] { calls().filter { $0.tool == tool.rawValue }.map(\.argv) }

    /// The workflows the fake holds (submitted ones first, newest first); empty before any call.
    public func workflows() -> [Record] {
        guard let obj = readRecord(), let list = obj["workflows"] as? [[String: Any]] else { return [] }
        return list.map { w in
            var params: [String: String] = [:]
            for pair in w["parameters"] as? [[String]] ?? [] where pair.count == 2 { params[pair[0]] = pair[1] }
            return Record(name: w["name"] as? String ?? "", namespace: w["namespace"] as? String ?? "",
                          step: w["step"] as? Int ?? 0, stopped: w["stopped"] as? Bool ?? false,
                          labels: w["labels"] as? [String: String] ?? [:], parameters: params,
                          template: w["template"] as? String)
        }
    }

    /// Makes the cluster forget a workflow (deleted, or garbage-collected): later calls get NotFound.
    public func deleteWorkflow(_ name: String) throws {
        guard var obj = readRecord(), let list = obj["workflows"] as? [[String: Any]] else {
            throw Failure(description: "FakeArgo: no workflow record yet (make one call first)")
        }
        obj["workflows"] = list.filter { $0["name"] as? String != name }
        try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: stateDir + "/workflows.json"))
    }

    private func readRecord() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: stateDir + "/workflows.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    // MARK: fixtures

    /// Tests/ExptBackendsTests/Fixtures/argo: the project's Argo captures and generated workflows.
    public static var fixturesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/ExptBackendsTests/Fixtures/argo").standardized.path
    }

    /// The text of one fixture, e.g. `gwas-186-items.json` or `gwas-186-items.pod-stuck.json`.
    public static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: fixturesDirectory + "/" + name, encoding: .utf8)
    }

    /// `json` with `change` applied to it as a JSON object (e.g. to add labels to a state).
    public static func edit(_ json: String, _ change: (inout [String: Any]) throws -> Void) throws -> String {
        guard var obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw Failure(description: "FakeArgo.edit: not a JSON object")
        }
        try change(&obj)
        return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
    }

    /// fake-argo in the source tree (or `EXPT_FAKE_ARGO`); fake-kubectl sits beside it.
    public static func locateScript() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPT_FAKE_ARGO"] { return p }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/EndToEndTests/Fixtures/fake-argo").standardized.path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Failure(description: "the fake argo is not at \(path) (or not executable)")
        }
        return path
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}
