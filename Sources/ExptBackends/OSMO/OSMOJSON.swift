import Foundation
import ExptModel

/// What `osmo workflow submit FILE --pool P … --format-type json` and `osmo workflow restart ID
/// --pool P --format-type json` print: the service's `SubmitResponse`
/// (NVIDIA/OSMO src/service/core/workflow/objects.py), dumped by src/cli/workflow.py
/// `print_submission_results` (`json.dumps(result, indent=4)`). The text form
/// (`Workflow submit successful.` / `Workflow ID        - …` / `Workflow Overview  - …`) is read too.
public struct OSMOSubmitResult: Sendable, Equatable {
    /// `name`: the workflow ID, `<workflow name from the YAML>-<N>` (N counts submissions of that
    /// name: src/utils/job/workflow.py `CONCAT(name, '-', max_job_id + 1)`).
    public var workflowID: String
    /// `overview`: the OSMO Web page of the workflow (`<service>/workflows/<id>`).
    public var overview: String?
    /// `logs`: the service URL of the workflow's logs.
    public var logs: String?
    /// `dashboard_url`: the Kubernetes dashboard of the backend, when configured.
    public var dashboardURL: String?
    public var warnings: [String]

    public init(workflowID: String, overview: String? = nil, logs: String? = nil, dashboardURL: String? = nil,
                warnings: [String] = []) {
        self.workflowID = workflowID; self.overview = overview; self.logs = logs
        self.dashboardURL = dashboardURL; self.warnings = warnings
    }
}

/// One element of `osmo workflow list … --format-type json` (`{"workflows": [ListEntry…]}`,
/// src/cli/workflow.py `_list_workflows`; `ListEntry` in src/service/core/workflow/objects.py).
public struct OSMOWorkflowSummary: Sendable, Equatable {
    public var workflowID: String
    public var uuid: String?
    public var user: String?
    /// A `WorkflowStatus`: PENDING, RUNNING, WAITING, COMPLETED, FAILED, FAILED_* (see `OSMOStatus`).
    public var status: String
    public var pool: String?
    public var priority: String?
    public var submitTime: Date?
    public var startTime: Date?
    public var endTime: Date?
    public var queuedSeconds: Double?
    public var durationSeconds: Double?
    public var overview: String?
    /// Only from OSMO builds after 6.3.1 (workflow labels, NVIDIA/OSMO#1225).
    public var labels: [String: String]

    public init(workflowID: String, uuid: String? = nil, user: String? = nil, status: String, pool: String? = nil,
                priority: String? = nil, submitTime: Date? = nil, startTime: Date? = nil, endTime: Date? = nil,
                queuedSeconds: Double? = nil, durationSeconds: Double? = nil, overview: String? = nil,
                labels: [String: String] = [:]) {
        self.workflowID = workflowID; self.uuid = uuid; self.user = user; self.status = status; self.pool = pool
        self.priority = priority; self.submitTime = submitTime; self.startTime = startTime; self.endTime = endTime
        self.queuedSeconds = queuedSeconds; self.durationSeconds = durationSeconds; self.overview = overview
        self.labels = labels
    }

    /// What a poll compares with the previous list to decide whether `query --verbose` is
    /// needed: the status and the start and end times (a rescheduled task keeps the workflow
    /// RUNNING, so a RUNNING workflow is also queried again when the caller's own interval says so).
    public var changeKey: String {
        [status, startTime.map { String($0.timeIntervalSince1970) } ?? "-",
         endTime.map { String($0.timeIntervalSince1970) } ?? "-"].joined(separator: "|")
    }
}

/// Parses the CLI's JSON. Errors are `.external` and name the command and the field.
public enum OSMOJSON {
    /// `osmo workflow submit … --format-type json` or `osmo workflow restart … --format-type json`.
    public static func submitResult(_ output: String, command: String) throws -> OSMOSubmitResult {
        if output.contains("Workflow ID        - ") || output.contains("Workflow ID - ") { return try submitText(output, command: command) }
        return try decode(OSMOSubmitResult.self, output, command: command)
    }

    /// `osmo workflow list … --format-type json`: `{"workflows": [...]}` (empty list when none).
    public static func workflows(_ output: String, command: String) throws -> [OSMOWorkflowSummary] {
        try decode(ListBody.self, output, command: command).workflows
    }

    /// `osmo workflow query ID [--verbose] --format-type json`.
    public static func workflow(_ output: String, command: String) throws -> OSMOWorkflow {
        try decode(OSMOWorkflow.self, output, command: command)
    }

    /// The text form of a submission (what `--format-type text` prints).
    static func submitText(_ output: String, command: String) throws -> OSMOSubmitResult {
        var fields: [String: String] = [:], warnings: [String] = []
        for line in output.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("WARNING: ") { warnings.append(String(line.dropFirst(9))); continue }
            guard line.hasPrefix("Workflow "), let dash = line.range(of: " - ") else { continue }
            let key = line[..<dash.lowerBound].trimmingCharacters(in: .whitespaces)
            fields[key] = line[dash.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = fields["Workflow ID"], !id.isEmpty else {
            throw notJSON(output, command: command)
        }
        return OSMOSubmitResult(workflowID: id, overview: fields["Workflow Overview"],
                                dashboardURL: fields["Workflow Dashboard"], warnings: warnings)
    }

    struct ListBody: Decodable {
        var workflows: [OSMOWorkflowSummary]
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: OSMOKey.self)
            // required: an error object ({"message", "code"}) must not read as an empty list
            workflows = try c.decode([OSMOWorkflowSummary].self, forKey: OSMOKey("workflows"))
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ output: String, command: String) throws -> T {
        let text = try payload(output, command: command)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw problem(error, output: text, command: command)
        }
    }

    /// The JSON part of the output: the first line that starts a JSON object. What the CLI may
    /// print before it on stdout (an upgrade notice, an exec prefix's banner) is skipped.
    static func payload(_ output: String, command: String) throws -> Substring {
        var rest = Substring(output)
        while let first = rest.first(where: { !$0.isWhitespace }), first != "{" {
            guard let nl = rest.firstIndex(where: \.isNewline) else { throw notJSON(output, command: command) }
            rest = rest[rest.index(after: nl)...]
        }
        guard rest.contains(where: { !$0.isWhitespace }) else { throw notJSON(output, command: command) }
        return rest
    }

    static func notJSON(_ output: String, command: String) -> ExptError {
        let shown = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let got = shown.isEmpty ? "nothing" : "'" + String(shown.prefix(200)) + (shown.count > 200 ? "…'" : "'")
        return ExptError(.external, "could not parse the output of `\(command)`: expected JSON, got \(got)",
                         hint: "run the command by hand to see what it prints; expt always passes --format-type json")
    }

    static func problem(_ error: DecodingError, output: Substring, command: String) -> ExptError {
        let hint = "expt reads the JSON of OSMO 6.3 and later; if this OSMO prints it differently, please report it "
            + "with that command's output"
        func path(_ keys: [CodingKey]) -> String {
            keys.reduce("") { text, key in
                if let i = key.intValue { return text + "[\(i)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        let what: String
        switch error {
        case .keyNotFound(let key, let context): what = "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context): what = "field '\(path(context.codingPath))' is null"
        case .typeMismatch(let type, let context):
            what = "field '\(path(context.codingPath))' is not \(type == String.self ? "a string" : "of type \(type)")"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let why = context.underlyingError.map { String(describing: $0) } ?? context.debugDescription
                what = "the JSON is malformed (\(why)); it is \(output.utf8.count) bytes long"
            } else {
                what = "field '\(path(context.codingPath))' is unreadable"
            }
        @unknown default: what = "unexpected JSON"
        }
        return ExptError(.external, "could not parse the output of `\(command)`: \(what)", hint: hint)
    }
}

extension OSMOSubmitResult: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        self.init(workflowID: try c.required("name"), overview: try c.string("overview"), logs: try c.string("logs"),
                  dashboardURL: try c.string("dashboard_url"), warnings: try c.strings("warnings"))
    }
}

extension OSMOWorkflowSummary: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        self.init(workflowID: try c.required("name"), uuid: try c.string("workflow_uuid"), user: try c.string("user"),
                  status: try c.required("status"), pool: try c.string("pool"), priority: try c.string("priority"),
                  submitTime: try c.date("submit_time"), startTime: try c.date("start_time"), endTime: try c.date("end_time"),
                  queuedSeconds: try c.seconds("queued_time"), durationSeconds: try c.seconds("duration"),
                  overview: try c.string("overview"), labels: (try? c.stringMap("labels")) ?? [:])
    }
}
