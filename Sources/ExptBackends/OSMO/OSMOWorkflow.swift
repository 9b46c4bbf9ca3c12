import Foundation
import ExptModel

/// One workflow as `osmo workflow query ID --verbose --format-type json` prints it: the
/// service's `WorkflowQueryResponse` with its `GroupQueryResponse` groups and
/// `TaskQueryResponse` tasks (NVIDIA/OSMO src/service/core/workflow/objects.py), reduced to what
/// expt reads. With `--verbose` every retry of a task is listed (sorted by task name, newest
/// retry first: src/utils/job/task.py `list_task_rows_by_group_name`); without it only the
/// latest. The order of the groups is the database's (no ORDER BY): never rely on it.
public struct OSMOWorkflow: Sendable, Equatable {
    public var workflowID: String
    public var uuid: String?
    public var submittedBy: String?
    public var cancelledBy: String?
    public var status: String
    public var pool: String?
    public var backend: String?
    public var priority: String?
    public var submitTime: Date?
    public var startTime: Date?
    public var endTime: Date?
    public var queuedSeconds: Double?
    public var durationSeconds: Double?
    public var execTimeoutSeconds: Double?
    public var queueTimeoutSeconds: Double?
    /// The OSMO Web page.
    public var overview: String?
    public var logsURL: String?
    public var eventsURL: String?
    public var dashboardURL: String?
    /// The workflow this one restarts (`osmo workflow restart`), e.g. `train-3`.
    public var parentName: String?
    /// The service's output location for the workflow (`<workflow_data base_url>/<id>`), "" when
    /// not configured. The outputs declared in the YAML are read with `OSMOOutputs`.
    public var outputs: String
    public var groups: [OSMOGroup]
    public var labels: [String: String]
    public var warnings: [String]

    public init(workflowID: String, uuid: String? = nil, submittedBy: String? = nil, cancelledBy: String? = nil,
                status: String, pool: String? = nil, backend: String? = nil, priority: String? = nil,
                submitTime: Date? = nil, startTime: Date? = nil, endTime: Date? = nil, queuedSeconds: Double? = nil,
                durationSeconds: Double? = nil, execTimeoutSeconds: Double? = nil, queueTimeoutSeconds: Double? = nil,
                overview: String? = nil, logsURL: String? = nil, eventsURL: String? = nil, dashboardURL: String? = nil,
                parentName: String? = nil, outputs: String = "", groups: [OSMOGroup] = [],
                labels: [String: String] = [:], warnings: [String] = []) {
        self.workflowID = workflowID; self.uuid = uuid; self.submittedBy = submittedBy; self.cancelledBy = cancelledBy
        self.status = status; self.pool = pool; self.backend = backend; self.priority = priority
        self.submitTime = submitTime; self.startTime = startTime; self.endTime = endTime
        self.queuedSeconds = queuedSeconds; self.durationSeconds = durationSeconds
        self.execTimeoutSeconds = execTimeoutSeconds; self.queueTimeoutSeconds = queueTimeoutSeconds
        self.overview = overview; self.logsURL = logsURL; self.eventsURL = eventsURL; self.dashboardURL = dashboardURL
        self.parentName = parentName; self.outputs = outputs; self.groups = groups; self.labels = labels
        self.warnings = warnings
    }

    /// Every task row of every group (all retries with `--verbose`).
    public var allTasks: [OSMOTask] { groups.flatMap(\.tasks) }

    /// Same key as `OSMOWorkflowSummary.changeKey`, for the workflow a query returned.
    public var changeKey: String {
        OSMOWorkflowSummary(workflowID: workflowID, status: status, startTime: startTime, endTime: endTime).changeKey
    }
}

/// A group: tasks that are scheduled together (`groups[]`; a workflow written with `tasks:`
/// gets one group per task).
public struct OSMOGroup: Sendable, Equatable {
    public var name: String
    /// A `TaskGroupStatus` (as a task's, without RESCHEDULED).
    public var status: String
    public var startTime: Date?
    public var endTime: Date?
    public var failureMessage: String?
    public var remainingUpstreamGroups: [String]
    public var downstreamGroups: [String]
    public var tasks: [OSMOTask]

    public init(name: String, status: String, startTime: Date? = nil, endTime: Date? = nil, failureMessage: String? = nil,
                remainingUpstreamGroups: [String] = [], downstreamGroups: [String] = [], tasks: [OSMOTask] = []) {
        self.name = name; self.status = status; self.startTime = startTime; self.endTime = endTime
        self.failureMessage = failureMessage; self.remainingUpstreamGroups = remainingUpstreamGroups
        self.downstreamGroups = downstreamGroups; self.tasks = tasks
    }
}

/// One attempt of a task (`groups[].tasks[]`). Task names are unique in a workflow; `retryID`
/// counts its attempts from 0 (a RESCHEDULED attempt is followed by one with `retryID + 1`).
public struct OSMOTask: Sendable, Equatable {
    public var name: String
    /// The group it belongs to (filled in from the enclosing group).
    public var group: String
    public var retryID: Int
    /// A `TaskGroupStatus`: SUBMITTING, WAITING, PROCESSING, SCHEDULING, INITIALIZING, RUNNING,
    /// COMPLETED, RESCHEDULED, FAILED, FAILED_* (see `OSMOStatus`).
    public var status: String
    /// What the backend listener wrote, e.g. `Failure reason:\n- Exit code 137 due to Task train failure. `
    /// (src/operator/backend_listener.py), `Upstream task failed.`, `Lead task finished`.
    public var failureMessage: String?
    /// 0, the user's 1–255, or one of OSMO's codes (`OSMOExitCode`).
    public var exitCode: Int?
    public var lead: Bool
    public var podName: String?
    public var nodeName: String?
    public var schedulingStartTime: Date?
    public var initializingStartTime: Date?
    public var startTime: Date?
    public var endTime: Date?
    public var logsURL: String?
    public var errorLogsURL: String?

    public init(name: String, group: String = "", retryID: Int = 0, status: String, failureMessage: String? = nil,
                exitCode: Int? = nil, lead: Bool = false, podName: String? = nil, nodeName: String? = nil,
                schedulingStartTime: Date? = nil, initializingStartTime: Date? = nil, startTime: Date? = nil,
                endTime: Date? = nil, logsURL: String? = nil, errorLogsURL: String? = nil) {
        self.name = name; self.group = group; self.retryID = retryID; self.status = status
        self.failureMessage = failureMessage; self.exitCode = exitCode; self.lead = lead; self.podName = podName
        self.nodeName = nodeName; self.schedulingStartTime = schedulingStartTime
        self.initializingStartTime = initializingStartTime; self.startTime = startTime; self.endTime = endTime
        self.logsURL = logsURL; self.errorLogsURL = errorLogsURL
    }
}

// MARK: - Decodable

extension OSMOWorkflow: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        self.init(workflowID: try c.required("name"), uuid: try c.string("uuid"), submittedBy: try c.string("submitted_by"),
                  cancelledBy: try c.string("cancelled_by"), status: try c.required("status"), pool: try c.string("pool"),
                  backend: try c.string("backend"), priority: try c.string("priority"),
                  submitTime: try c.date("submit_time"), startTime: try c.date("start_time"), endTime: try c.date("end_time"),
                  queuedSeconds: try c.seconds("queued_time"), durationSeconds: try c.seconds("duration"),
                  execTimeoutSeconds: try c.seconds("exec_timeout"), queueTimeoutSeconds: try c.seconds("queue_timeout"),
                  overview: try c.string("overview"), logsURL: try c.string("logs"), eventsURL: try c.string("events"),
                  dashboardURL: try c.string("dashboard_url"), parentName: try c.string("parent_name"),
                  outputs: try c.text("outputs") ?? "",
                  groups: try c.decodeIfPresent([OSMOGroup].self, forKey: OSMOKey("groups")) ?? [],
                  labels: (try? c.stringMap("labels")) ?? [:], warnings: (try? c.strings("warnings")) ?? [])
    }
}

extension OSMOGroup: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        let name = try c.required("name")
        let tasks = try c.decodeIfPresent([OSMOTask].self, forKey: OSMOKey("tasks")) ?? []
        self.init(name: name, status: try c.required("status"), startTime: try c.date("start_time"),
                  endTime: try c.date("end_time"), failureMessage: try c.text("failure_message"),
                  remainingUpstreamGroups: (try? c.strings("remaining_upstream_groups")) ?? [],
                  downstreamGroups: (try? c.strings("downstream_groups")) ?? [],
                  tasks: tasks.map { var t = $0; t.group = name; return t })
    }
}

extension OSMOTask: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        self.init(name: try c.required("name"), retryID: try c.int("retry_id") ?? 0, status: try c.required("status"),
                  failureMessage: try c.text("failure_message"), exitCode: try c.int("exit_code"),
                  lead: try c.bool("lead") ?? false, podName: try c.string("pod_name"), nodeName: try c.string("node_name"),
                  schedulingStartTime: try c.date("scheduling_start_time"),
                  initializingStartTime: try c.date("initializing_start_time"),
                  startTime: try c.date("start_time"), endTime: try c.date("end_time"),
                  logsURL: try c.string("logs"), errorLogsURL: try c.string("error_logs"))
    }
}
