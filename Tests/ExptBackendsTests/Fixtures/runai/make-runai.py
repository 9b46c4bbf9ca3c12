#!/usr/bin/env python3
"""Generates the SYNTHETIC Run:ai CLI outputs of SOURCES.md. No real output of the Run:ai CLI exists
as public data (backends research §3.1, §9): these follow the field names of Run:ai's REST API
Workload object (name, id, type, phase, phaseMessage, k8sPhase, conditions, runningPods,
projectName, namespace, createdAt, priorityClassName: docs.nvidia.com/run-ai, REST API "Get
workload", v3.0) and its list body {"workloads": [...]}; the describe layout (general / compute /
pods / events sections) is a guess from the CLI's section flags (--general --compute --pods
--events, runai_training_describe.md). The scheduler texts are KAI-Scheduler's formats
(pkg/scheduler/api/unschedule_info.go). Replace these with real captures when one is available
(`runai training list -p P --json`, `runai training describe NAME -p P -o json`).

Usage: make-runai.py       # writes every file (deterministic)
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT, NS = "team-a", "runai-team-a"
OVER_QUOTA = ("NonPreemptibleOverQuota: Non-preemptible workload is over quota. Workload requested 1 GPUs, but team-a quota is 2 GPUs, "
              "while 2 GPUs are already allocated for non-preemptible pods. Use a preemptible workload to go over quota.")
PREEMPTED = "Pod runai-team-a/expt-r5-train-0-0 was preempted by higher priority workload runai-team-a/pg-nightly-eval-7f3c2a91"


def workload(name, i, phase, message=None, k8s=None, running=0, conditions=None, priority="train"):
    w = {"name": name, "id": "0b6c%04d-3f1e-4a52-9d1c-5e8b7a6f%04d" % (i, i), "type": "Training", "phase": phase,
         "projectName": PROJECT, "projectId": "4", "namespace": NS, "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
         "createdAt": "2026-01-05T11:%02d:00.000Z" % (10 + i), "runningPods": running, "priorityClassName": priority,
         "k8sPhase": k8s or phase, "conditions": conditions or []}
    if message:
        w["phaseMessage"] = message
    return w


def items():
    return [
        workload("expt-r1-gwas-iron", 1, "Running", running=1,
                 conditions=[{"type": "Running", "status": "True", "lastTransitionTime": "2026-01-05T11:12:00Z"}]),
        workload("expt-r2-gpu", 2, "Pending", message=OVER_QUOTA, k8s="Pending", priority="build",
                 conditions=[{"type": "Pending", "status": "True", "reason": "NonPreemptibleOverQuota", "message": OVER_QUOTA}]),
        workload("expt-r3-done", 3, "Completed", k8s="Succeeded"),
        workload("expt-r4-oom", 4, "Failed", message="main: OOMKilled (exit code 137)", k8s="Failed"),
        workload("expt-r5-train", 5, "Pending", k8s="Pending",
                 conditions=[{"type": "Evicted", "status": "True", "reason": "Preempted", "message": PREEMPTED}]),
    ]


def describe(w, pods, events):
    general = {k: w[k] for k in ("name", "id", "type", "phase", "projectName", "namespace", "createdAt", "priorityClassName")}
    if "phaseMessage" in w:
        general["phaseMessage"] = w["phaseMessage"]
    return {"general": general, "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 4, "cpuMemoryRequest": "32G"},
            "pods": pods, "events": events}


def write(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write("training-list.api-shape.json", {"workloads": items(), "next": 5})
    write("training-list.bare-array.json", items())
    w = items()
    write("training-describe-overquota.json", describe(w[1], [{"name": "expt-r2-gpu-0-0", "status": "Pending", "k8sPhase": "Pending"}],
          [{"createdAt": "2026-01-05T11:13:05Z", "type": "Warning", "reason": "Unschedulable", "source": "kai-scheduler", "message": OVER_QUOTA}]))
    write("training-describe-preempted.json", describe(w[4], [{"name": "expt-r5-train-0-0", "status": "Pending", "k8sPhase": "Pending"}],
          [{"createdAt": "2026-01-05T11:40:12Z", "type": "Normal", "reason": "Evict", "source": "kai-scheduler", "message": PREEMPTED}]))
    write("training-describe-running.json", describe(w[0], [{"name": "expt-r1-gwas-iron-0-0", "status": "Running", "k8sPhase": "Running"}],
          [{"createdAt": "2026-01-05T11:11:30Z", "type": "Normal", "reason": "Scheduled", "source": "kai-scheduler",
            "message": "Successfully assigned pod runai-team-a/expt-r1-gwas-iron-0-0 to node gpu-node-03"}]))
