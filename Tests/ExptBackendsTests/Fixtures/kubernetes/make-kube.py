#!/usr/bin/env python3
"""Generates the SYNTHETIC `kubectl get jobs,pods -o json` Lists of SOURCES.md, and converts the
is-healthy TESTDATA pods in source/ from YAML to JSON.

Nothing generated here is a capture. The shapes come from:
  * real objects: source/ishealthy-pod-start-error.yaml (a Job's pod: the Job controller's labels
    batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name, controller-uid, job-name, the
    ownerReference to its Job), the other is-healthy pods (containerStatuses with state/lastState,
    waiting reasons and messages, conditions), source/ishealthy-job-failed-backofflimitexceeded.yaml
    (Job status, a Failed condition);
  * kubectl 1.32.4 on this machine (kubectl-1.32.4-get-jobs-pods.json): one `List` holding the Job
    items then the Pod items, 4-space indent;
  * Kubernetes docs and API types (k8s.io/api batch/v1): completionMode Indexed, backoffLimitPerIndex,
    podFailurePolicy, status.completedIndexes / failedIndexes ("1,3-5,7"), the pod annotations
    batch.kubernetes.io/job-completion-index, job-index-failure-count, job-index-ignored-failure-count
    (and the completion-index label, 1.28+), conditions FailureTarget then Failed (reason FailedIndexes,
    "Job has failed indexes"), SuccessCriteriaMet then Complete (reason CompletionsReached), the pod
    condition DisruptionTarget (reason PreemptionByScheduler), pod names <job>-<index>-<5 chars>;
  * the KAI-Scheduler over-quota text (pkg/scheduler/api/unschedule_info.go).
Times are written as seen at ANCHOR (2026-01-05T12:00:00Z): unit tests pass that as `now`, and
fake-kube shifts every time by (now - anchor) when a scenario sets time_anchor.

Usage: make-kube.py            # writes every file listed in SOURCES.md (deterministic)
"""
import datetime, json, os, random

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "team-a"
IMAGE = "ghcr.io/example/sweep:1.4"
ANCHOR = datetime.datetime(2026, 1, 5, 12, 0, 0, tzinfo=datetime.timezone.utc)
KAI_OVER_QUOTA = ("NonPreemptibleOverQuota: Non-preemptible workload is over quota. Workload requested 1 GPUs, but team-a "
                  "quota is 2 GPUs, while 2 GPUs are already allocated for non-preemptible pods. Use a preemptible workload to go over quota.")


def ts(minutes_before):
    return (ANCHOR - datetime.timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Job:
    def __init__(self, name, run, branch, items, memory="4Gi", seed=1):
        self.name, self.run, self.branch, self.items, self.memory = name, run, branch, items, memory
        self.rnd = random.Random(seed)
        self.uid = self.uuid()
        self.pods = []

    def uuid(self):
        h = "%032x" % self.rnd.getrandbits(128)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def suffix(self):
        return "".join(self.rnd.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))

    def labels(self):
        return {"expt.branch": self.branch, "expt.run": self.run}

    def pod(self, index, created, phase, state=None, last_state=None, conditions=None, reason=None, message=None,
            failures=0, ignored=0, restarts=0, node="gpu-node-%02d"):
        name = "%s-%d-%s" % (self.name, index, self.suffix())
        labels = dict(self.labels())
        labels.update({"batch.kubernetes.io/controller-uid": self.uid, "batch.kubernetes.io/job-completion-index": str(index),
                       "batch.kubernetes.io/job-name": self.name, "controller-uid": self.uid, "job-name": self.name})
        annotations = {"batch.kubernetes.io/job-completion-index": str(index)}
        if failures:
            annotations["batch.kubernetes.io/job-index-failure-count"] = str(failures)
        if ignored:
            annotations["batch.kubernetes.io/job-index-ignored-failure-count"] = str(ignored)
        scheduled = conditions is None or not any(c["type"] == "PodScheduled" and c["status"] == "False" for c in conditions)
        status = {"phase": phase}
        if scheduled:
            status.update({"hostIP": "10.0.3.%d" % (10 + index % 200), "podIP": "10.244.%d.%d" % (index % 8, 10 + index),
                           "qosClass": "Burstable", "startTime": ts(created)})
        conds = conditions if conditions is not None else []
        if scheduled and conditions is None:
            ready = "True" if phase == "Running" else "False"
            conds = [{"lastProbeTime": None, "lastTransitionTime": ts(created), "status": "True", "type": "PodReadyToStartContainers"},
                     {"lastProbeTime": None, "lastTransitionTime": ts(created), "status": "True", "type": "Initialized"},
                     {"lastProbeTime": None, "lastTransitionTime": ts(created), "status": ready, "type": "Ready"},
                     {"lastProbeTime": None, "lastTransitionTime": ts(created), "status": ready, "type": "ContainersReady"},
                     {"lastProbeTime": None, "lastTransitionTime": ts(created), "status": "True", "type": "PodScheduled"}]
        status["conditions"] = conds
        if reason:
            status["reason"] = reason
        if message:
            status["message"] = message
        if state is not None:
            status["containerStatuses"] = [{
                "containerID": "containerd://%064x" % self.rnd.getrandbits(256) if "waiting" not in state else None,
                "image": IMAGE, "imageID": "ghcr.io/example/sweep@sha256:%064x" % self.rnd.getrandbits(256) if "waiting" not in state else "",
                "lastState": last_state or {}, "name": "main", "ready": phase == "Running", "restartCount": restarts,
                "started": phase == "Running", "state": state}]
            for c in status["containerStatuses"]:
                for k in [k for k, v in c.items() if v is None]:
                    del c[k]
        obj = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"annotations": annotations, "creationTimestamp": ts(created), "generateName": "%s-%d-" % (self.name, index),
                            "labels": labels, "name": name, "namespace": NS,
                            "ownerReferences": [{"apiVersion": "batch/v1", "blockOwnerDeletion": True, "controller": True,
                                                 "kind": "Job", "name": self.name, "uid": self.uid}],
                            "resourceVersion": str(1000 + len(self.pods)), "uid": self.uuid()},
               "spec": {"containers": [{"command": ["bash", "-c", "..."], "image": IMAGE, "name": "main",
                                        "resources": {"limits": {"memory": self.memory}, "requests": {"cpu": "2", "memory": self.memory}}}],
                        "hostname": "%s-%d" % (self.name, index), "nodeName": (node % (1 + index % 16)) if scheduled else None,
                        "restartPolicy": "Never", "schedulerName": "default-scheduler"},
               "status": status}
        if obj["spec"]["nodeName"] is None:
            del obj["spec"]["nodeName"]
        self.pods.append(obj)
        return obj

    def succeeded(self, index, started, ended):
        return self.pod(index, started + 1, "Succeeded", {"terminated": {
            "containerID": "containerd://x", "exitCode": 0, "finishedAt": ts(ended), "reason": "Completed", "startedAt": ts(started)}})

    def running(self, index, started, **kw):
        return self.pod(index, started + 1, "Running", {"running": {"startedAt": ts(started)}}, **kw)

    def oom(self, index, started, ended, **kw):
        return self.pod(index, started + 1, "Failed", {"terminated": {
            "containerID": "containerd://x", "exitCode": 137, "finishedAt": ts(ended), "reason": "OOMKilled", "startedAt": ts(started)}}, **kw)

    def manifest(self, started, completed=(), failed=None, active=0, succeeded=0, failures=0, conditions=(), completion=None):
        spec = {"backoffLimit": 2147483647, "backoffLimitPerIndex": 1, "completionMode": "Indexed", "completions": len(self.items),
                "manualSelector": False, "parallelism": len(self.items), "podReplacementPolicy": "Failed",
                "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"status": "True", "type": "DisruptionTarget"}]},
                                               {"action": "FailIndex", "onExitCodes": {"containerName": "main", "operator": "In", "values": [126, 127]}}]},
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": self.uid}}, "suspend": False,
                "template": {"metadata": {"labels": self.labels()}, "spec": {"containers": [{"name": "main", "image": IMAGE}], "restartPolicy": "Never"}}}
        status = {"active": active, "ready": active, "startTime": ts(started), "terminating": 0, "uncountedTerminatedPods": {}}
        if completed:
            status["completedIndexes"] = fmt(completed)
        if failed is not None:
            status["failedIndexes"] = fmt(failed)
        if succeeded:
            status["succeeded"] = succeeded
        if failures:
            status["failed"] = failures
        if conditions:
            status["conditions"] = list(conditions)
        if completion is not None:
            status["completionTime"] = ts(completion)
        for k in [k for k, v in status.items() if v == 0 and k in ("active", "ready")]:
            del status[k]
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"annotations": {"expt.items": fmt(self.items), "expt.job-name": "expt.%s.%s" % (self.run, self.branch)},
                             "creationTimestamp": ts(started), "generation": 1, "labels": self.labels(), "name": self.name,
                             "namespace": NS, "resourceVersion": "900", "uid": self.uid},
                "spec": spec, "status": status}


def fmt(items):
    out, i, items = [], 0, list(items)
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        if j - i >= 2:
            out.append("%d-%d" % (items[i], items[j])); i = j + 1
        else:
            out.append(str(items[i])); i += 1
    return ",".join(out)


def cond(type_, reason, message, minutes):
    return {"lastProbeTime": ts(minutes), "lastTransitionTime": ts(minutes), "message": message, "reason": reason, "status": "True", "type": type_}


def write(name, job, pods=None):
    doc = {"apiVersion": "v1", "items": [job] + (pods if pods is not None else []), "kind": "List", "metadata": {"resourceVersion": ""}}
    with open(os.path.join(HERE, name), "w") as f:
        f.write(json.dumps(doc, indent=4, ensure_ascii=False, sort_keys=True) + "\n")


def sweep():
    """20 items 0..19, 4Gi; items 7 and 13 run out of memory twice (backoffLimitPerIndex 1)."""
    bad = (7, 13)
    # while it runs: 0-6 and 8-9 done, 7's first pod OOMKilled and its second running, the rest running
    j = Job("expt-r1-sweep-x7k2p", "r1", "sweep", list(range(20)), seed=20)
    pods = []
    for i in range(20):
        if i < 10 and i not in bad:
            pods.append(j.succeeded(i, 20, 9))
        elif i == 7:
            pods.append(j.oom(i, 20, 12))
            pods.append(j.running(i, 11, failures=1))
        else:
            pods.append(j.running(i, 20))
    write("job-20-items-running.json", j.manifest(20, completed=[i for i in range(10) if i not in bad], failed=[], active=11,
                                                  succeeded=9, failures=1), pods)
    # the end: 18 done, 7 and 13 failed twice each
    j = Job("expt-r1-sweep-x7k2p", "r1", "sweep", list(range(20)), seed=20)
    pods = []
    for i in range(20):
        if i in bad:
            pods.append(j.oom(i, 20, 12))
            pods.append(j.oom(i, 11, 3, failures=1))
        else:
            pods.append(j.succeeded(i, 20, 9 if i < 10 else 4))
    fail = [cond("FailureTarget", "FailedIndexes", "Job has failed indexes", 2), cond("Failed", "FailedIndexes", "Job has failed indexes", 2)]
    write("job-20-items-2-oom.json", j.manifest(20, completed=[i for i in range(20) if i not in bad], failed=list(bad), succeeded=18,
                                                failures=4, conditions=fail), pods)
    # the relaunch: a fresh Job of 2 indexes over items 7 and 13, 8Gi
    for state in ("running", "succeeded"):
        j = Job("expt-r2-sweep-p9q4m", "r2", "sweep", [7, 13], memory="8Gi", seed=2)
        if state == "running":
            write("job-relaunch-7-13-running.json", j.manifest(1, active=2), [j.running(0, 1), j.running(1, 1)])
        else:
            done = [cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", 0),
                    cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods", 0)]
            write("job-relaunch-7-13-succeeded.json", j.manifest(10, completed=[0, 1], succeeded=2, conditions=done, completion=0),
                  [j.succeeded(0, 10, 0), j.succeeded(1, 10, 1)])


def preempted():
    """3 items; item 1's pod is preempted (DisruptionTarget), the Job starts it again, all succeed."""
    disruption = [{"lastProbeTime": None, "lastTransitionTime": ts(8), "message": "default-scheduler: preempting to accommodate a higher priority pod",
                   "reason": "PreemptionByScheduler", "status": "True", "type": "DisruptionTarget"},
                  {"lastProbeTime": None, "lastTransitionTime": ts(30), "status": "True", "type": "PodScheduled"}]
    killed = {"terminated": {"containerID": "containerd://x", "exitCode": 143, "finishedAt": ts(8), "reason": "Error", "startedAt": ts(30)}}
    for state in ("running", "succeeded"):
        j = Job("expt-r1-train-h4z8c", "r1", "train", [0, 1, 2], seed=3)
        pods = [j.running(0, 30) if state == "running" else j.succeeded(0, 30, 1),
                j.pod(1, 31, "Failed", killed, conditions=disruption),
                j.running(1, 7, ignored=1) if state == "running" else j.succeeded(1, 7, 0),
                j.running(2, 30) if state == "running" else j.succeeded(2, 30, 2)]
        if state == "running":
            write("job-preempted-running.json", j.manifest(31, active=3), pods)
        else:
            done = [cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", 0),
                    cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods", 0)]
            write("job-preempted-succeeded.json", j.manifest(31, completed=[0, 1, 2], succeeded=3, conditions=done, completion=0), pods)


def blocked():
    # ImagePullBackOff: both pods wait for an image that does not exist
    j = Job("expt-r1-bad-image-q2w9d", "r1", "bad-image", [0, 1], seed=4)
    waiting = {"waiting": {"message": 'Back-off pulling image "ghcr.io/example/sweep:1.5-typo"', "reason": "ImagePullBackOff"}}
    pods = [j.pod(i, 3, "Pending", waiting) for i in range(2)]
    for p in pods:
        p["spec"]["containers"][0]["image"] = p["status"]["containerStatuses"][0]["image"] = "ghcr.io/example/sweep:1.5-typo"
    write("job-imagepull.json", j.manifest(3, active=2), pods)
    # stuck: item 0 done; item 1's pod has sat in ContainerCreating for 25 minutes (a volume that does not mount)
    j = Job("expt-r1-stuck-m3k8t", "r1", "stuck", [0, 1], seed=5)
    pods = [j.succeeded(0, 30, 10), j.pod(1, 25, "Pending", {"waiting": {"reason": "ContainerCreating"}})]
    write("job-stuck.json", j.manifest(30, completed=[0], active=1, succeeded=1), pods)
    events = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        {"apiVersion": "v1", "count": 1, "firstTimestamp": ts(25), "lastTimestamp": ts(25), "involvedObject": {"kind": "Pod", "name": pods[1]["metadata"]["name"], "namespace": NS},
         "kind": "Event", "message": "Successfully assigned %s/%s to gpu-node-02" % (NS, pods[1]["metadata"]["name"]),
         "metadata": {"name": pods[1]["metadata"]["name"] + ".1", "namespace": NS}, "reason": "Scheduled", "source": {"component": "default-scheduler"}, "type": "Normal"},
        {"apiVersion": "v1", "count": 12, "firstTimestamp": ts(24), "lastTimestamp": ts(1), "involvedObject": {"kind": "Pod", "name": pods[1]["metadata"]["name"], "namespace": NS},
         "kind": "Event", "message": 'MountVolume.SetUp failed for volume "ce-static" : rpc error: code = Internal desc = Could not mount juicefs: juicefs status 16s timed out',
         "metadata": {"name": pods[1]["metadata"]["name"] + ".2", "namespace": NS}, "reason": "FailedMount", "source": {"component": "kubelet", "host": "gpu-node-02"}, "type": "Warning"}]}
    with open(os.path.join(HERE, "job-stuck.events-failedmount.json"), "w") as f:
        f.write(json.dumps(events, indent=4, sort_keys=True) + "\n")
    # over quota on a Run:ai cluster: the pod waits unscheduled with the KAI scheduler's message
    j = Job("expt-r1-gpu-n5v2b", "r1", "gpu", [0], seed=6)
    unscheduled = [{"lastProbeTime": None, "lastTransitionTime": ts(40), "message": KAI_OVER_QUOTA, "reason": "Unschedulable",
                    "status": "False", "type": "PodScheduled"}]
    write("job-overquota.json", j.manifest(40, active=1), [j.pod(0, 40, "Pending", None, conditions=unscheduled)])
    # a time limit: item 1's pod ran past its activeDeadlineSeconds (pod-level), no retry left
    j = Job("expt-r1-slow-t6c4x", "r1", "slow", [0, 1], seed=7)
    pods = [j.succeeded(0, 70, 20), j.pod(1, 70, "Failed", {"terminated": {"containerID": "containerd://x", "exitCode": 137, "finishedAt": ts(10),
                                                                              "reason": "Error", "startedAt": ts(69)}},
                                            reason="DeadlineExceeded", message="Pod was active on the node longer than the specified deadline")]
    fail = [cond("FailureTarget", "FailedIndexes", "Job has failed indexes", 9), cond("Failed", "FailedIndexes", "Job has failed indexes", 9)]
    write("job-timeout.json", j.manifest(70, completed=[0], failed=[1], succeeded=1, failures=1, conditions=fail), pods)


class Times(yaml.SafeLoader):
    pass


Times.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def convert():
    src = os.path.join(HERE, "source")
    for name in sorted(os.listdir(src)):
        if name.startswith("ishealthy-") and name.endswith(".yaml"):
            with open(os.path.join(src, name)) as f:
                obj = yaml.load(f, Loader=Times)
            with open(os.path.join(HERE, name[:-5] + ".json"), "w") as f:
                f.write(json.dumps(obj, indent=4, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sweep()
    preempted()
    blocked()
    convert()
