import Foundation
import ExptModel

/// OSMO's workflow and task statuses onto expt's states, and what a failure means. The raw
/// status is always kept beside the result by the caller (`rawState`).
///
/// Workflow statuses (src/utils/job/workflow.py `WorkflowStatus`): alive PENDING, RUNNING,
/// WAITING; terminal COMPLETED, FAILED, FAILED_SUBMISSION, FAILED_SERVER_ERROR,
/// FAILED_EXEC_TIMEOUT, FAILED_QUEUE_TIMEOUT, FAILED_CANCELED, FAILED_BACKEND_ERROR,
/// FAILED_IMAGE_PULL, FAILED_EVICTED, FAILED_START_ERROR, FAILED_START_TIMEOUT, FAILED_PREEMPTED.
/// A workflow is `FAILED_<X>` when every failed group (FAILED_UPSTREAM aside) failed for the
/// same reason X, plain FAILED otherwise (`Workflow._aggregate_status`): so FAILED is refined by
/// the root-cause task (`OSMOTasks.rootCause`).
///
/// Task/group statuses (src/utils/job/task.py `TaskGroupStatus`): SUBMITTING, WAITING,
/// PROCESSING, SCHEDULING, INITIALIZING, RUNNING, COMPLETED, RESCHEDULED (task only), FAILED,
/// FAILED_CANCELED, FAILED_SERVER_ERROR, FAILED_BACKEND_ERROR, FAILED_EXEC_TIMEOUT,
/// FAILED_QUEUE_TIMEOUT, FAILED_IMAGE_PULL, FAILED_UPSTREAM, FAILED_EVICTED,
/// FAILED_START_ERROR, FAILED_START_TIMEOUT, FAILED_PREEMPTED. `failed()` = starts with FAILED.
public enum OSMOStatus {
    public static let aliveWorkflowStatuses = ["PENDING", "RUNNING", "WAITING"]

    /// Not finished (`WorkflowStatus.alive`). An unknown status counts as alive: keep watching.
    public static func isAlive(workflowStatus s: String) -> Bool {
        aliveWorkflowStatuses.contains(s) || !(s == "COMPLETED" || s.hasPrefix("FAILED"))
    }

    public static func isFailed(_ status: String) -> Bool { status.hasPrefix("FAILED") }

    /// A workflow's status alone. FAILED stays `.failed`; `jobState(of:)` refines it.
    public static func jobState(workflowStatus s: String) -> JobState {
        switch s {
        case "PENDING": return .pending
        case "RUNNING", "WAITING": return .running
        case "COMPLETED": return .succeeded
        default: return isFailed(s) ? failure(s, exitCode: nil, message: nil) : .running
        }
    }

    /// A task attempt's status, refined by its exit code and message.
    public static func jobState(taskStatus s: String, exitCode: Int? = nil, message: String? = nil) -> JobState {
        switch s {
        // queued: not yet on a node (SCHEDULING is in the Kubernetes queue)
        case "SUBMITTING", "WAITING", "PROCESSING", "SCHEDULING": return .pending
        // not a TaskGroupStatus, but OSMO's own eval fixtures print it for queued tasks
        case "PENDING": return .pending
        // pulling the image, downloading inputs: not yet the user's program
        case "INITIALIZING": return .pending
        case "RUNNING": return .running
        case "COMPLETED": return .succeeded
        // ended and a new attempt (retry_id + 1) is being scheduled
        case "RESCHEDULED": return .pending
        default: return isFailed(s) ? failure(s, exitCode: exitCode, message: message) : .running
        }
    }

    /// A workflow: its status, and for a plain FAILED the state of its root-cause task.
    public static func jobState(of workflow: OSMOWorkflow) -> JobState {
        let state = jobState(workflowStatus: workflow.status)
        guard workflow.status == "FAILED", let cause = OSMOTasks.rootCause(of: workflow) else { return state }
        return jobState(taskStatus: cause.status, exitCode: cause.exitCode, message: cause.failureMessage)
    }

    static func failure(_ s: String, exitCode: Int?, message: String?) -> JobState {
        switch s {
        case "FAILED_CANCELED": return .cancelled
        // never ran: something upstream failed. A relaunch must run it again (as Argo's Omitted).
        case "FAILED_UPSTREAM": return .cancelled
        case "FAILED_EXEC_TIMEOUT": return .timeout
        case "FAILED_PREEMPTED": return .preempted
        case "FAILED_BACKEND_ERROR", "FAILED_SERVER_ERROR": return .nodeFail
        // OOMKilled → FAILED_EVICTED/3004 (backend_listener.py calculate_pod_status); a pod
        // evicted for disk pressure is evicted too, and is not a memory problem
        case "FAILED_EVICTED": return OSMOExitCode.isDiskEviction(message) ? .failed : .oom
        default:
            // FAILED (refined by the exit code), FAILED_QUEUE_TIMEOUT (stuck scheduling, see
            // `category`), FAILED_IMAGE_PULL, FAILED_START_*, FAILED_SUBMISSION
            // a message naming OOMKilled (what OSMO's own eval fixtures show for a plain FAILED)
            if message?.contains("OOMKilled") == true { return .oom }
            switch exitCode {
            case 3004?: return OSMOExitCode.isDiskEviction(message) ? .failed : .oom
            case 3006?: return .preempted
            case 3001?, 3002?: return .nodeFail
            default: return .failed
            }
        }
    }

    /// The diagnosis category (`FailureCategory.rawValue` of ExptDiagnosis) a failed status and
    /// exit code point to; nil when only the logs can tell (a user exit code, FAILED_CANCELED,
    /// FAILED_UPSTREAM). The status speaks first, then the code.
    public static func category(status: String, exitCode: Int?, message: String?) -> String? {
        switch status {
        case "COMPLETED": return "success"
        case "FAILED_EXEC_TIMEOUT": return "timeout"
        case "FAILED_QUEUE_TIMEOUT": return "stuck_scheduling"
        case "FAILED_IMAGE_PULL": return "image_pull"
        case "FAILED_PREEMPTED": return "preempted"
        case "FAILED_EVICTED": return OSMOExitCode.isDiskEviction(message) ? "disk_full" : "oom_host"
        case "FAILED_BACKEND_ERROR": return "node_failure"
        case "FAILED_SERVER_ERROR": return "network_transient"
        case "FAILED_START_ERROR", "FAILED_SUBMISSION": return "config_error"
        case "FAILED_START_TIMEOUT": return "image_pull"
        case "FAILED_CANCELED", "FAILED_UPSTREAM": return nil
        default: return exitCode.flatMap { OSMOExitCode.category($0, message: message) }
        }
    }
}

/// Task exit codes (docs/user_guide/workflows/exit_codes.rst; src/utils/job/task.py `ExitCode`;
/// src/operator/backend_listener.py `EXIT_CODE_OFFSETS`, `WAITING_REASON_ERROR_CODE`). "If a task
/// encounters multiple exit codes, the highest exit code will be selected."
public enum OSMOExitCode {
    /// What the code means, in words, for messages.
    public static func meaning(_ code: Int) -> String {
        switch code {
        case 0: return "completed"
        case 137: return "the program was killed (SIGKILL), usually for using too much memory"
        case 1...255: return "the program exited with \(code)"
        case 256...257: return "OSMO initialization failed"
        case 301: return "image pull back-off (ImagePullBackOff)"
        case 302: return "image pull failed (ErrImagePull)"
        case 303: return "container configuration error"
        case 304: return "the container crash-loops (CrashLoopBackOff)"
        case 305: return "container status unknown (node unreachable)"
        case 999: return "the container waits on an error"
        case 1001...1255: return "an OSMO preflight test failed (\(code - 1000))"
        case 2002: return "unknown OSMO runtime error"
        case 2010: return "input download failed"
        case 2011: return "mount failed"
        case 2012: return "output upload failed"
        case 2013: return "data authorization check failed"
        case 2014: return "data access is unauthorized"
        case 2020: return "invalid service token"
        case 2021: return "service connection timed out"
        case 2022: return "messages to/from the service failed"
        case 2023: return "messages to/from the user task failed"
        case 2024: return "barrier synchronization failed"
        case 2025: return "metrics failed"
        case 2030...2040: return "miscellaneous OSMO failure"
        case 3000: return "an upstream task failed"
        case 3001: return "backend error (node or cluster)"
        case 3002: return "OSMO server error"
        case 3003: return "the task failed to start"
        case 3004: return "evicted (OOMKilled, or node pressure)"
        case 3005: return "start timeout (stuck pulling images or secrets)"
        case 3006: return "preempted for a higher-priority workflow"
        case 4000: return "unknown error"
        default: return "exit code \(code)"
        }
    }

    /// The diagnosis category of a code; nil when the logs must tell (the user's 1–255 but 137).
    public static func category(_ code: Int, message: String? = nil) -> String? {
        switch code {
        case 0: return "success"
        case 137: return "oom_host"
        case 301, 302: return "image_pull"
        case 303, 2013, 2014, 2020, 3003: return "config_error"
        case 305, 1001...1255, 3001: return "node_failure"
        case 2010, 2012: return "data_error"
        case 2011: return "mount_failure"
        case 2021, 2022, 2023, 2025, 3002: return "network_transient"
        case 2024: return "nccl_distributed"
        case 3004: return isDiskEviction(message) ? "disk_full" : "oom_host"
        case 3005: return "image_pull"
        case 3006: return "preempted"
        default: return nil
        }
    }

    /// An eviction for disk, not memory (the kubelet's `The node was low on resource:
    /// ephemeral-storage`), as far as the message says.
    static func isDiskEviction(_ message: String?) -> Bool {
        guard let m = message?.lowercased() else { return false }
        return m.contains("ephemeral-storage") || m.contains("diskpressure")
    }
}
