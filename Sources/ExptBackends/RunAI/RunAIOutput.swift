import Foundation
import ExptModel

/// What the Run:ai parser expects of the CLI's JSON: the ONE place that names its fields.
///
/// No real output of the Run:ai CLI (v1 or v2) exists as public data (backends research §3.1,
/// §9), so these are the field names of the Run:ai REST API's Workload object, which the CLI's
/// `--json` is taken to print: `name`, `id`, `phase`, `phaseMessage`, `k8sPhase`, `conditions`,
/// `runningPods`, `projectName`, `createdAt` (docs.nvidia.com/run-ai, REST API "Get workload",
/// v3.0: reference/rest-api/endpoints/workloads/workloads/get-workload), and the list body
/// `{"workloads": [...]}` of `GET /api/v1/workloads`. Each field lists the names tried, first
/// found wins; `status` is tried after `phase` because the CLI names the column and its filter
/// that way (`runai training list --status`, v3.0 CLI reference). When a required field is
/// absent the error names it, the names tried and the command, and asks for the output: replace
/// the fixtures in Tests/ExptBackendsTests/Fixtures/runai/ with a real capture and fix this table.
public struct RunAIFields: Sendable, Equatable {
    public var name = ["name"]
    public var status = ["phase", "status"]
    public var message = ["phaseMessage"]
    public var project = ["projectName", "project"]
    public var id = ["id"]
    public var k8sPhase = ["k8sPhase"]
    public var createdAt = ["createdAt"]
    public var runningPods = ["runningPods"]
    public var conditions = ["conditions"]
    /// Where a list keeps its workloads when it is an object, not a bare array.
    public var listKeys = ["workloads", "trainings", "items"]
    /// `runai training describe -o json`: the sections that hold the workload's own fields
    /// (tried after the top level), and the arrays of pods and events (searched two levels deep).
    public var generalKeys = ["general", "workload"]
    public var pods = ["pods"]
    public var events = ["events"]
    /// Texts read for the scheduler's messages (over quota, preemption), anywhere in a description.
    public var messageKeys = ["message", "phaseMessage", "reason", "details"]
    public init() {}

    public static let standard = RunAIFields()
}

/// One workload as `runai training list` / `describe` show it.
public struct RunAIWorkload: Sendable, Equatable {
    public var name: String
    /// Run:ai's status (Creating, Pending, Initializing, Running, Degraded, Completed, Failed, …).
    public var status: String
    public var message: String?
    public var project: String?
    public var id: String?
    public var k8sPhase: String?
    public var createdAt: Date?
    public var runningPods: Int?
    /// `conditions[].message` (and reason) as text.
    public var conditionMessages: [String]
    public init(name: String, status: String, message: String? = nil, project: String? = nil, id: String? = nil,
                k8sPhase: String? = nil, createdAt: Date? = nil, runningPods: Int? = nil, conditionMessages: [String] = []) {
        self.name = name; self.status = status; self.message = message; self.project = project; self.id = id
        self.k8sPhase = k8sPhase; self.createdAt = createdAt; self.runningPods = runningPods; self.conditionMessages = conditionMessages
    }

    /// Every text of the workload the scheduler may have written in.
    public var messages: [String] { [message].compactMap { $0 } + conditionMessages }
}

/// `runai training describe NAME -p P -o json`: the workload, its pods and events (when found),
/// and every message text in it.
public struct RunAIDescription: Sendable, Equatable {
    public struct Pod: Sendable, Equatable {
        public var name: String
        public var status: String?
    }
    public struct Event: Sendable, Equatable {
        public var type: String?
        public var reason: String?
        public var message: String?
    }
    public var workload: RunAIWorkload
    public var pods: [Pod]
    public var events: [Event]
    /// Every string under a `RunAIFields.messageKeys` key, in document order.
    public var messages: [String]
}

public enum RunAIOutput {
    /// `runai training list -p P --json`: a bare array, or an object holding one (`listKeys`).
    public static func list(_ output: String, command: String, fields: RunAIFields = .standard) throws -> [RunAIWorkload] {
        let object = try json(output, command: command)
        let array: [Any]
        if let a = object as? [Any] { array = a }
        else if let o = object as? [String: Any], let key = fields.listKeys.first(where: { o[$0] != nil }) {
            if o[key] is NSNull { return [] }
            guard let a = o[key] as? [Any] else { throw problem(command, "field '\(key)' is not an array") }
            array = a
        } else {
            throw problem(command, "expected a list of workloads (a JSON array, or an object with one of \(fields.listKeys.map { "'\($0)'" }.joined(separator: ", "))), got keys \(keys(object))")
        }
        return try array.enumerated().map { i, element -> RunAIWorkload in
            guard let o = element as? [String: Any] else { throw problem(command, "element [\(i)] is not an object") }
            return try workload(o, at: "[\(i)]", fields: fields, command: command)
        }
    }

    /// `runai training describe NAME -p P -o json`.
    public static func describe(_ output: String, command: String, fields: RunAIFields = .standard) throws -> RunAIDescription {
        guard let top = try json(output, command: command) as? [String: Any] else {
            throw problem(command, "expected a JSON object describing one workload")
        }
        // the workload's own fields: at the top, else in a section (`general`)
        var source = top
        if first(fields.status, in: top) == nil, let section = fields.generalKeys.lazy.compactMap({ top[$0] as? [String: Any] }).first {
            source = section.merging(top.filter { !($0.value is [String: Any]) }) { a, _ in a }
        }
        let w = try workload(source, at: "", fields: fields, command: command)
        let pods = arrays(fields.pods, in: top).map { p in
            Pod(name: first(["name", "podName", "id"], in: p) ?? "?", status: first(["status", "phase", "k8sPhase"], in: p))
        }
        let events = arrays(fields.events, in: top).map { e in
            Event(type: first(["type"], in: e), reason: first(["reason"], in: e), message: first(["message"], in: e))
        }
        var texts: [String] = []
        collect(top, keys: Set(fields.messageKeys), into: &texts, depth: 0)
        return RunAIDescription(workload: w, pods: pods, events: events, messages: texts)
    }

    typealias Pod = RunAIDescription.Pod
    typealias Event = RunAIDescription.Event

    static func workload(_ o: [String: Any], at path: String, fields f: RunAIFields, command: String) throws -> RunAIWorkload {
        func missing(_ what: String, _ names: [String]) -> ExptError {
            problem(command, "\(path.isEmpty ? "the workload" : "workload \(path)") has no \(what) (looked for \(names.map { "'\($0)'" }.joined(separator: ", ")); it has \(keys(o)))")
        }
        guard let name = first(f.name, in: o) else { throw missing("name", f.name) }
        guard let status = first(f.status, in: o) else { throw missing("status", f.status) }
        var conditions: [String] = []
        for key in f.conditions { for c in o[key] as? [[String: Any]] ?? [] {
            let text = [first(["reason", "type"], in: c), first(["message"], in: c)].compactMap { $0 }.joined(separator: ": ")
            if !text.isEmpty { conditions.append(text) }
        } }
        let running = f.runningPods.lazy.compactMap { o[$0] as? Int }.first
        return RunAIWorkload(name: name, status: status, message: first(f.message, in: o), project: first(f.project, in: o),
                             id: first(f.id, in: o), k8sPhase: first(f.k8sPhase, in: o),
                             createdAt: first(f.createdAt, in: o).flatMap(ArgoTime.parse), runningPods: running,
                             conditionMessages: conditions)
    }

    /// The first of `names` whose value is a non-empty string (numbers are read as text).
    static func first(_ names: [String], in o: [String: Any]) -> String? {
        for n in names {
            if let s = o[n] as? String, !s.isEmpty { return s }
            if let i = o[n] as? Int { return String(i) }
        }
        return nil
    }

    /// Arrays of objects under `names`, at the top or one section down.
    static func arrays(_ names: [String], in o: [String: Any]) -> [[String: Any]] {
        for n in names { if let a = o[n] as? [[String: Any]] { return a } }
        for value in o.values { if let section = value as? [String: Any] { for n in names { if let a = section[n] as? [[String: Any]] { return a } } } }
        return []
    }

    static func collect(_ value: Any, keys: Set<String>, into texts: inout [String], depth: Int) {
        guard depth < 8 else { return }
        if let o = value as? [String: Any] {
            for k in o.keys.sorted() {
                if keys.contains(k), let s = o[k] as? String, !s.isEmpty { texts.append(s) } else { collect(o[k]!, keys: keys, into: &texts, depth: depth + 1) }
            }
        } else if let a = value as? [Any] {
            for v in a { collect(v, keys: keys, into: &texts, depth: depth + 1) }
        }
    }

    static func json(_ output: String, command: String) throws -> Any {
        let text = try ArgoJSON.payload(output, command: command)
        do { return try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw problem(command, "the JSON is malformed (\(error.localizedDescription)); it is \(text.utf8.count) bytes long")
        }
    }

    static func keys(_ object: Any) -> String {
        guard let o = object as? [String: Any] else { return object is [Any] ? "an array" : "no keys" }
        let k = o.keys.sorted()
        return k.isEmpty ? "no keys" : k.prefix(12).map { "'\($0)'" }.joined(separator: ", ") + (k.count > 12 ? ", …" : "")
    }

    static func problem(_ command: String, _ what: String) -> ExptError {
        ExptError(.external, "could not read the output of `\(command)`: \(what)",
                  hint: "no sample of the Run:ai CLI's JSON was public when expt learned to read it (RunAIFields in "
                      + "Sources/ExptBackends/RunAI/RunAIOutput.swift lists what it expects); please report it with that command's output")
    }
}
