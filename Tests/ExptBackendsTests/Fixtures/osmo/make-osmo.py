#!/usr/bin/env python3
"""Writes the SYNTHETIC OSMO fixtures of this directory (see SOURCES.md). Deterministic: run it
again after a change and commit what changed. Standard library only.

Shapes follow NVIDIA/OSMO @ 1da31e19e61f810be8ed175bb74cce6f7900e5aa:
  SubmitResponse, ListEntry, WorkflowQueryResponse, GroupQueryResponse, TaskQueryResponse
    src/service/core/workflow/objects.py (field order = pydantic's dump order)
  indentation of the CLI's json.dumps: submit/restart/cancel/pool/resource 4, query/list/errors 2
    src/cli/workflow.py, src/cli/pool.py, src/cli/resources.py, src/cli/cli.py
  failure messages  src/operator/backend_listener.py get_container_failure_message,
                    src/utils/job/jobs.py ('Upstream task failed.', 'Lead task finished',
                    'Task stayed in queue longer than the set limit of …')
  log lines         src/utils/connectors/redis.py redis_log_formatter
  error printout    src/cli/cli.py main, src/lib/utils/client.py handle_response
Values (names, UUIDs, URLs, times) are invented.

usage: python3 make-osmo.py [OUTPUT_DIR]   (default: this file's directory)
"""
import hashlib, json, os, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
BASE = "https://osmo.example.com"
USER = "researcher@example.com"


def uuid(seed):
    return hashlib.md5(seed.encode()).hexdigest()


def write(name, obj, indent):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write((json.dumps(obj, indent=indent) if not isinstance(obj, str) else obj) + ("\n" if not isinstance(obj, str) else ""))


def task(wf, wf_uuid, name, status, retry=0, exit_code=None, message=None, start=None, end=None, lead=True,
         scheduling="2026-11-20T10:00:05", initializing=None, node="osmo-h100-node-07"):
    t_uuid = uuid(wf + name + str(retry))
    logs = "%s/api/workflow/%s/logs?last_n_lines=1000" % (BASE, wf)
    failed_with_logs = status == "RESCHEDULED" or (status.startswith("FAILED") and status not in (
        "FAILED_SERVER_ERROR", "FAILED_EVICTED", "FAILED_START_ERROR", "FAILED_IMAGE_PULL", "FAILED_UPSTREAM",
        "FAILED_CANCELED", "FAILED_EXEC_TIMEOUT", "FAILED_QUEUE_TIMEOUT"))          # TaskGroupStatus.has_error_logs
    return {
        "name": name, "retry_id": retry, "status": status, "failure_message": message, "exit_code": exit_code,
        "logs": "%s&task_name=%s&retry_id=%d" % (logs, name, retry),
        "error_logs": "%s/api/workflow/%s/error_logs?task_name=%s&retry_id=%d" % (BASE, wf, name, retry) if failed_with_logs else None,
        "processing_start_time": "2026-11-20T10:00:00.482113", "scheduling_start_time": scheduling,
        "initializing_start_time": initializing, "events": "%s/api/workflow/%s/events?task_name=%s&retry_id=%d" % (BASE, wf, name, retry),
        "start_time": start, "end_time": end, "input_download_start_time": None, "input_download_end_time": None,
        "output_upload_start_time": None, "dashboard_url": None, "pod_name": "%s-%s" % (wf_uuid[:16], t_uuid[:16]),
        "pod_ip": "10.244.3.17" if start else None, "task_uuid": t_uuid, "node_name": node if start else None, "lead": lead}


def group(name, status, tasks, message=None, upstream=(), downstream=(), start=None, end=None):
    return {"name": name, "status": status, "start_time": start, "end_time": end,
            "processing_start_time": "2026-11-20T10:00:00.482113", "scheduling_start_time": "2026-11-20T10:00:05",
            "initializing_start_time": None, "remaining_upstream_groups": list(upstream),
            "downstream_groups": list(downstream), "failure_message": message, "tasks": tasks}


def workflow(wf, status, groups, start=None, end=None, parent=None, queued=95.0, duration=None, pool="h100-east",
             queue_timeout=21600.0, exec_timeout=28800.0, cancelled_by=None):
    u = uuid(wf)
    return {
        "name": wf, "uuid": u, "submitted_by": USER, "cancelled_by": cancelled_by,
        "spec": "%s/api/workflow/%s/spec" % (BASE, wf), "template_spec": "%s/api/workflow/%s/spec?use_template=true" % (BASE, wf),
        "logs": "%s/api/workflow/%s/logs?last_n_lines=1000" % (BASE, wf), "events": "%s/api/workflow/%s/events" % (BASE, wf),
        "overview": "%s/workflows/%s" % (BASE, wf), "parent_name": parent,
        "parent_job_id": int(parent.rsplit("-", 1)[1]) if parent else None, "dashboard_url": None, "grafana_url": None,
        "tags": [], "submit_time": "2026-11-20T10:00:00.218734", "start_time": start, "end_time": end,
        "exec_timeout": exec_timeout, "queue_timeout": queue_timeout, "duration": duration, "queued_time": queued,
        "status": status, "outputs": "s3://osmo-workflows/%s" % wf, "groups": groups, "pool": pool, "backend": "h100",
        "app_owner": None, "app_name": None, "app_version": None, "plugins": {"rsync": False}, "priority": "NORMAL",
        "labels": {}, "warnings": []}


def main():
    # OOM as the service reports it: OOMKilled -> FAILED_EVICTED / 3004, the message names 137
    wf = "expt-train-4"
    u = uuid(wf)
    oom = "Failure reason:\n- Exit code 137 due to Task train failure. "
    write("query-oom-evicted.json", workflow(wf, "FAILED_EVICTED", [group("train", "FAILED_EVICTED", [
        task(wf, u, "train", "FAILED_EVICTED", exit_code=3004, message=oom, start="2026-11-20T10:01:40", end="2026-11-20T10:14:12")],
        message=oom, start="2026-11-20T10:01:40", end="2026-11-20T10:14:12")],
        start="2026-11-20T10:01:40", end="2026-11-20T10:14:12", duration=752.0), 2)

    # mount failure: osmo-ctrl exits 11 -> 2000 + 11 = 2011 (EXIT_CODE_OFFSETS['CTRL'])
    wf = "expt-train-5"
    u = uuid(wf)
    mount = "Failure reason:\n- Exit code 2011 due to OSMO Control failure. "
    write("query-mount-2011.json", workflow(wf, "FAILED", [group("train", "FAILED", [
        task(wf, u, "train", "FAILED", exit_code=2011, message=mount, start="2026-11-20T10:01:40", end="2026-11-20T10:02:03")],
        message=mount, start="2026-11-20T10:01:40", end="2026-11-20T10:02:03")],
        start="2026-11-20T10:01:40", end="2026-11-20T10:02:03", duration=23.0), 2)

    # queue timeout: never left SCHEDULING
    wf = "expt-train-6"
    u = uuid(wf)
    queue = "Task stayed in queue longer than the set limit of 6 hours."
    write("query-queue-timeout.json", workflow(wf, "FAILED_QUEUE_TIMEOUT", [group("train", "FAILED_QUEUE_TIMEOUT", [
        task(wf, u, "train", "FAILED_QUEUE_TIMEOUT", message=queue, end="2026-11-20T16:00:05")],
        message=queue, end="2026-11-20T16:00:05")], end="2026-11-20T16:00:05", queued=21600.0), 2)

    # three groups: prep succeeded; train failed (lead `rank0` exit 1, its sibling stopped);
    # eval never ran (FAILED_UPSTREAM / 3000, which must not win the highest-exit-code rule)
    wf = "expt-pipeline-2"
    u = uuid(wf)
    err = "Failure reason:\n- Exit code 1 due to Task rank0 failure. "
    write("query-groups-upstream.json", workflow(wf, "FAILED", [
        group("eval", "FAILED_UPSTREAM", [task(wf, u, "evaluate", "FAILED_UPSTREAM", exit_code=3000,
                                               message="Upstream task failed.", end="2026-11-20T10:30:02")],
              message="Upstream task failed.", upstream=["train"], end="2026-11-20T10:30:02"),
        group("train", "FAILED", [
            task(wf, u, "rank0", "FAILED", exit_code=1, message=err, start="2026-11-20T10:05:00", end="2026-11-20T10:30:00"),
            task(wf, u, "rank1", "FAILED", exit_code=None, message="Lead task finished", lead=False,
                 start="2026-11-20T10:05:00", end="2026-11-20T10:30:01")],
            message=err, upstream=[], downstream=["eval"], start="2026-11-20T10:05:00", end="2026-11-20T10:30:01"),
        group("prep", "COMPLETED", [task(wf, u, "prep", "COMPLETED", exit_code=0, start="2026-11-20T10:01:00",
                                         end="2026-11-20T10:04:40")],
              downstream=["train"], start="2026-11-20T10:01:00", end="2026-11-20T10:04:40")],
        start="2026-11-20T10:01:00", end="2026-11-20T10:30:02", duration=1742.0), 2)

    # preempted once (RESCHEDULED by the default exit action, retry 0), running again as retry 1
    wf = "expt-train-7"
    u = uuid(wf)
    write("query-rescheduled-verbose.json", workflow(wf, "RUNNING", [group("train", "RUNNING", [
        task(wf, u, "train", "RUNNING", retry=1, start="2026-11-20T11:02:10"),
        task(wf, u, "train", "RESCHEDULED", retry=0, exit_code=3006,
             message="Pod was preempted at 2026-11-20 11:00:00+00:00. ", start="2026-11-20T10:01:40", end="2026-11-20T11:00:00")],
        start="2026-11-20T10:01:40")], start="2026-11-20T10:01:40"), 2)

    # the restart of expt-pipeline-2: only the failed groups (train, eval), parent set
    wf = "expt-pipeline-3"
    u = uuid(wf)
    write("query-restart-running.json", workflow(wf, "RUNNING", [
        group("train", "RUNNING", [task(wf, u, "rank0", "RUNNING", start="2026-11-20T11:00:30"),
                                   task(wf, u, "rank1", "RUNNING", lead=False, start="2026-11-20T11:00:30")],
              downstream=["eval"], start="2026-11-20T11:00:30"),
        group("eval", "WAITING", [task(wf, u, "evaluate", "WAITING", scheduling=None)], upstream=["train"])],
        start="2026-11-20T11:00:30", parent="expt-pipeline-2"), 2)

    wf = "expt-train-8"
    u = uuid(wf)
    write("query-completed.json", workflow(wf, "COMPLETED", [group("train", "COMPLETED", [
        task(wf, u, "train", "COMPLETED", exit_code=0, start="2026-11-20T10:01:40", end="2026-11-20T11:40:00")],
        start="2026-11-20T10:01:40", end="2026-11-20T11:40:00")],
        start="2026-11-20T10:01:40", end="2026-11-20T11:40:00", duration=5900.0), 2)

    # submit/restart: SubmitResponse (logs set, spec null), indent 4
    write("submit.json", {"name": "expt-train-4", "overview": BASE + "/workflows/expt-train-4",
                          "logs": BASE + "/api/workflow/expt-train-4/logs", "spec": None,
                          "dashboard_url": "https://k8s.example.com/#/workload?namespace=osmo-prod", "warnings": []}, 4)
    write("restart.json", {"name": "expt-pipeline-3", "overview": BASE + "/workflows/expt-pipeline-3",
                           "logs": BASE + "/api/workflow/expt-pipeline-3/logs", "spec": None, "dashboard_url": None,
                           "warnings": []}, 4)

    # list: ListEntry, newest last (the CLI's default --order asc reverses the server's DESC)
    def entry(wf, status, start=None, end=None, queued=95.0, duration=None, pool="h100-east"):
        return {"user": USER, "name": wf, "workflow_uuid": uuid(wf), "submit_time": "2026-11-20T10:00:00.218734",
                "start_time": start, "end_time": end, "queued_time": queued, "duration": duration, "status": status,
                "overview": BASE + "/workflows/" + wf, "logs": BASE + "/api/workflow/%s/logs" % wf,
                "error_logs": BASE + "/api/workflow/%s/error_logs" % wf if status.startswith("FAILED") else None,
                "grafana_url": None, "dashboard_url": None, "pool": pool, "app_owner": None, "app_name": None,
                "app_version": None, "priority": "NORMAL", "labels": {}}
    write("list.json", {"workflows": [
        entry("expt-train-4", "FAILED_EVICTED", "2026-11-20T10:01:40", "2026-11-20T10:14:12", duration=752.0),
        entry("expt-train-6", "FAILED_QUEUE_TIMEOUT", None, "2026-11-20T16:00:05", queued=21600.0),
        entry("expt-train-7", "RUNNING", "2026-11-20T10:01:40"),
        entry("expt-train-9", "PENDING", queued=12.5, pool="l40s-batch")]}, 2)
    write("list-empty.json", {"workflows": []}, 2)

    # errors as src/cli/cli.py prints them (stdout)
    def err_json(message, code):
        return json.dumps({"message": message, "code": code}, indent=2) + "\n"
    write("error-not-logged-in.json.txt", err_json('Must login first with "login" command', 1), 0)
    write("error-not-logged-in.text.txt", 'Error message: Must login first with "login" command\nError code: 1\n', 0)
    write("error-unknown-pool.json.txt", err_json("Pool h100-nowhere not found.", 400), 0)
    write("error-validation.json.txt", err_json(
        "Workflow expt-train submit failed:\n1 validation error for VersionedWorkflowSpec\nworkflow.tasks.0.image\n"
        "  Field required [type=missing, input_value={'name': 'train', 'command': ['python', 'train.py']}, input_type=dict]\n"
        "    For further information visit https://errors.pydantic.dev/2.11/v/missing", 400), 0)
    write("error-jinja.json.txt", err_json(
        "Jinja substitution failure: <class 'jinja2.exceptions.UndefinedError'>: 'memory' is undefined", 400), 0)
    write("error-rate-limited.json.txt", err_json("local_rate_limited", 429), 0)
    write("error-unreachable.json.txt", err_json(
        "\nCannot connect to OSMO service, with error:\nHTTPSConnectionPool(host='osmo.example.com', port=443): Max retries "
        "exceeded with url: /api/workflow?limit=100 (Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection "
        "object at 0x7f3a2c1b5e10>: Failed to resolve 'osmo.example.com' ([Errno -2] Name or service not known)\"))\n", 1), 0)
    write("error-restart-not-failed.json.txt", err_json(
        "Restart can only be used on FAILED workflows: Workflow expt-train-8 has status WorkflowStatus.COMPLETED", 400), 0)
    write("error-workflow-not-found.json.txt", err_json("Workflow expt-train-99 is not found.", 400), 0)
    write("cancel-ok.txt", json.dumps({"name": "expt-train-7"}, indent=4) + "\n", 0)
    write("cancel-already-finished.txt",
          "Workflow cancelation failed for workflow expt-train-8: Workflow expt-train-8 is already finished.\n", 0)
    write("logs-train-retry1.txt", "Workflow expt-train-7 has logs:\n"
          "2026/11/20 11:02:10 [train retry-1][osmo] Downloading inputs\n"
          "2026/11/20 11:02:31 [train retry-1] epoch 1/10 loss=2.8841\n"
          "2026/11/20 11:09:02 [train retry-1] epoch 2/10 loss=1.9023\n"
          "\nLog stream has timed out or failed. Please run the command again to continue viewing logs.\n", 0)


if __name__ == "__main__":
    main()
