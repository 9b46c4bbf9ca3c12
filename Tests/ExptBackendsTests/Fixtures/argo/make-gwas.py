#!/usr/bin/env python3
"""Generates SYNTHETIC `argo get -o json` workflows shaped like the GWAS team's real runs.

Nothing here is a capture. The shapes come from:
  * real captures: dls-get-workflow-qhb59-failed.json (field set and order of a Pod node, the
    pod-name-format annotation, outputs.exitCode as a string, resourcesDuration, conditions,
    taskResultsCompletionStatus), argotest-*.json (Retry/TaskGroup/DAG nodes, children,
    boundaryID, "No more retries left", a dependent task listed as a child of the last attempt);
  * the reference pipeline Salk-Harnessing-Plants-Initiative/gapit3-gwas-pipeline:
    cluster/argo/workflows/gapit3-parallel-pipeline.yaml (DAG validate-inputs -> extract-traits ->
    run-all-traits withSequence 2..187 over templateRef gapit3-gwas-single-trait-highmem/run-gwas ->
    collect-results), cluster/argo/workflow-templates/*.yaml (14 input parameters, retryStrategy
    limit 3 = 4 attempts), scripts/retry-argo-traits.sh (retry-trait-N tasks + collect-results);
  * Argo's controller (argoproj/argo-workflows @ f016ad89): node ids wf-fnv32a(name) (NodeID),
    fan-out names task(i:item) (generateNodeName), attempts name(k) (processNodeRetries), display
    names relative to the boundary, progress = sum over Pod nodes (workflow/progress/updater.go),
    pending-pod message = the waiting reason (getPendingReason), main: prefix from 3.7.

Usage:
  make-gwas.py                                   # writes gwas-186-items.json (the default scenario)
  make-gwas.py --all                             # every fixture file listed in SOURCES.md
  make-gwas.py --traits 5,28,29,30 --style tasks --aggregate --phase succeeded --out X.json
Deterministic: the same arguments always give the same bytes.
"""
import argparse, datetime, json, random

NS = "runai-talmo-lab"
IMAGE = "ghcr.io/salk-harnessing-plants-initiative/gapit3-gwas-pipeline:feat-add-ci-testing-workflows-test"
DATA = "/hpi/hpi_dev/users/eberrigan/20260104_Elohim_Bello_iron_deficiency_GAPIT_GWAS_normalized"
WF_PARAMS = [
    ("image", IMAGE), ("data-hostpath", DATA + "/data"), ("output-hostpath", DATA + "/outputs"),
    ("genotype-file", "/data/genotype/acc_snps_filtered_mac.recode_edited_diploid.hmp.txt"),
    ("phenotype-file", "/data/phenotype/iron_traits_edited_normal.txt"),
    ("accession-ids-file", "/data/metadata/ids_gwas.txt"),
    ("start-trait-index", "2"), ("end-trait-index", "187"), ("model", "BLINK,FarmCPU,MLM"),
    ("pca-total", "3"), ("snp-maf", "0.0073"), ("snp-fdr", "0.05"), ("kinship-algorithm", "Zhang"),
    ("snp-effect", "Add"), ("snp-impute", "Middle")]
PASSED = ["image", "genotype-file", "phenotype-file", "accession-ids-file", "model", "pca-total",
          "snp-maf", "snp-fdr", "kinship-algorithm", "snp-effect", "snp-impute"]
TRAIT_TMPL = {"name": "gapit3-gwas-single-trait-highmem", "template": "run-gwas"}
COLLECT_TMPL = {"name": "gapit3-results-collector", "template": "collect-results"}
HOSTS = ["manticore-%02d" % i for i in range(1, 17)]


def fnv32a(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Builder:
    def __init__(self, wf, created, rnd, argo37):
        self.wf, self.created, self.rnd, self.argo37 = wf, created, rnd, argo37
        self.nodes = {}

    def nid(self, name):
        return self.wf if name == self.wf else "%s-%d" % (self.wf, fnv32a(name))

    def node(self, name, display, typ, phase, start, end=None, boundary=None, tmpl=None, ref=None,
             scope=None, message=None, inputs=None, exit_code=None, children=(), flag=None):
        n = {"id": self.nid(name), "name": name, "displayName": display, "type": typ}
        if ref:
            n["templateRef"] = dict(ref)
        if tmpl:
            n["templateName"] = tmpl
        n["templateScope"] = scope or "local/" + self.wf
        n["phase"] = phase
        if boundary:
            n["boundaryID"] = boundary
        if message:
            n["message"] = message
        n["startedAt"] = ts(start)
        n["finishedAt"] = ts(end) if end else None
        if typ == "Pod":
            n["progress"] = "1/1" if phase == "Succeeded" else "0/1"
            if end:
                secs = int((end - start).total_seconds())
                n["resourcesDuration"] = {"cpu": secs * 16, "memory": secs * 96}
        if inputs:
            n["inputs"] = {"parameters": [{"name": k, "value": v} for k, v in inputs]}
        if exit_code is not None:
            n["outputs"] = {"exitCode": str(exit_code)}
        if children:
            n["children"] = list(children)
        if typ == "Pod":                     # every pod here is scheduled (a PodInitializing pod is too)
            n["hostNodeName"] = self.rnd.choice(HOSTS)
        if flag:
            n["nodeFlag"] = flag
        self.nodes[n["id"]] = n
        return n

    def progress(self):
        pods = [n for n in self.nodes.values() if n["type"] == "Pod"]
        done = sum(1 for n in pods if n["phase"] in ("Succeeded", "Skipped", "Omitted"))

        def walk(n, seen):
            d = t = 0
            for c in n.get("children", []):
                if c in seen:
                    continue
                seen.add(c)
                child = self.nodes[c]
                if child["type"] == "Pod":
                    a, b = child["progress"].split("/")
                    d, t = d + int(a), t + int(b)
                cd, ct = walk(child, seen)
                d, t = d + cd, t + ct
            return d, t
        for n in self.nodes.values():
            if n["type"] != "Pod":
                d, t = walk(n, set())
                if t:
                    n["progress"] = "%d/%d" % (d, t)
        return "%d/%d" % (done, len(pods))


def item_inputs(trait, name):
    values = dict(WF_PARAMS)
    return [("trait-index", str(trait)), ("trait-name", name)] + [(k, values[k]) for k in PASSED]


def oom(argo37):
    return ("main: " if argo37 else "") + "OOMKilled (exit code 137)"


def build(a):
    rnd = random.Random(a.seed)
    created = datetime.datetime(2026, 1, 4, 17, 12, 3)
    now = created + datetime.timedelta(hours=24, minutes=13)
    wf = a.name
    b = Builder(wf, created, rnd, not a.argo36)
    traits = a.traits or list(range(2, 2 + a.items))
    oom_set, stuck, flaky, live = set(a.oom), set(a.stuck), set(a.flaky), set(a.live)
    finished = a.phase in ("succeeded", "failed")
    root_children, boundary = [], wf
    t = created + datetime.timedelta(seconds=2)
    after = []                               # ids the next task depends on
    if a.style == "fanout" and not a.traits:
        v = b.node(wf + ".validate-inputs", "validate-inputs", "Pod", "Succeeded", t, t + datetime.timedelta(seconds=41),
                   boundary=wf, tmpl="validate", exit_code=0)
        t2 = t + datetime.timedelta(seconds=45)
        e = b.node(wf + ".extract-traits", "extract-traits", "Pod", "Succeeded", t2, t2 + datetime.timedelta(seconds=38),
                   boundary=wf, tmpl="extract-traits-inline", exit_code=0)
        v["children"] = [e["id"]]
        root_children = [v["id"]]
        after = [e]
        t = t2 + datetime.timedelta(seconds=40)
    group = None
    if a.style == "fanout":
        group = b.node(wf + ".run-all-traits", "run-all-traits", "TaskGroup", "Running", t, boundary=wf, ref=TRAIT_TMPL)
        for n in after:
            n["children"] = [group["id"]]
        if not after:
            root_children = [group["id"]]
    last_pods, item_phases = [], []
    for i, trait in enumerate(traits):
        slot = i // 10                       # parallelism: 10
        start = t + datetime.timedelta(minutes=slot * 75 + rnd.randint(0, 9))
        task = "run-all-traits(%d:%d)" % (i, trait) if a.style == "fanout" else "retry-trait-%d" % trait
        name = wf + "." + task
        trait_name = ("trait-%d" if a.style == "fanout" else "retry-trait-%d") % trait
        inputs = item_inputs(trait, trait_name)
        attempts, pods = (4 if trait in oom_set else 2 if trait in flaky else 1), []
        if trait in stuck:
            start = now - datetime.timedelta(hours=2, minutes=7)
        elif trait in live:
            start = now - datetime.timedelta(minutes=rnd.randint(5, 30))
        s = start
        for k in range(attempts):
            last = k == attempts - 1
            if trait in stuck:
                phase, msg, end, code = "Pending", "PodInitializing", None, None
            elif trait in live:
                phase, msg, end, code = "Running", None, None, None
            elif trait in oom_set:
                phase, msg, code = "Failed", oom(b.argo37), 137
                end = s + datetime.timedelta(minutes=rnd.randint(38, 70))
            elif trait in flaky and not last:
                phase, msg, code = "Failed", ("main: " if b.argo37 else "") + "Error (exit code 1)", 1
                end = s + datetime.timedelta(minutes=rnd.randint(2, 9))
            else:
                phase, msg, code = "Succeeded", None, 0
                end = s + datetime.timedelta(minutes=rnd.randint(35, 68))
            p = b.node("%s(%d)" % (name, k), "%s(%d)" % (task, k), "Pod", phase, s, end, boundary=boundary,
                       ref=TRAIT_TMPL, scope="namespaced/" + TRAIT_TMPL["name"], message=msg, inputs=inputs,
                       exit_code=code, flag={"retried": True} if k else None)
            pods.append(p)
            if end:
                s = end + datetime.timedelta(minutes=5 * 2 ** k)      # backoff 5m, factor 2
        lp = pods[-1]
        if lp["phase"] in ("Pending", "Running"):
            rphase, rmsg, rend = "Running", None, None
        elif lp["phase"] == "Failed":
            rphase, rmsg, rend = "Failed", "No more retries left", lp["finishedAt"]
        else:
            rphase, rmsg, rend = "Succeeded", None, lp["finishedAt"]
        r = b.node(name, task, "Retry", rphase, start,
                   datetime.datetime.strptime(rend, "%Y-%m-%dT%H:%M:%SZ") if rend else None,
                   boundary=boundary, ref=TRAIT_TMPL, scope="namespaced/" + TRAIT_TMPL["name"], message=rmsg,
                   inputs=inputs, exit_code=lp.get("outputs", {}).get("exitCode"),
                   children=[p["id"] for p in pods])
        if group:
            group.setdefault("children", []).append(r["id"])
        else:
            root_children.append(r["id"])
        last_pods.append(lp)
        item_phases.append(rphase)
    failed = "Failed" in item_phases
    running = "Running" in item_phases
    group_phase = "Running" if running else "Failed" if failed else "Succeeded"
    ends = [n["finishedAt"] for n in last_pods if n["finishedAt"]]
    group_end = max(ends) if ends and not running else None
    if group:
        group["phase"] = group_phase
        if group_end:
            group["finishedAt"] = group_end
        if failed and not running:
            bad = next(n for n in b.nodes.values() if n["type"] == "Retry" and n["phase"] == "Failed")
            group["message"] = "child '%s' failed" % bad["id"]
    wf_phase, wf_msg = "Running", None
    if a.aggregate and not running:
        cstart = datetime.datetime.strptime(group_end, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(seconds=3)
        if failed:
            c = b.node(wf + ".collect-results", "collect-results", "Skipped", "Omitted", cstart, cstart, boundary=wf,
                       ref=COLLECT_TMPL, message="omitted: depends condition not met")
        else:
            done = a.phase == "succeeded"
            c = b.node(wf + ".collect-results", "collect-results", "Pod", "Succeeded" if done else "Running", cstart,
                       cstart + datetime.timedelta(minutes=6) if done else None, boundary=wf, ref=COLLECT_TMPL,
                       scope="namespaced/" + COLLECT_TMPL["name"],
                       inputs=[("image", IMAGE), ("batch-id", wf)], exit_code=0 if done else None)
        for lp in last_pods:                 # a dependent is a child of each outbound node (argotest: B(0) -> D)
            lp.setdefault("children", []).append(c["id"])
        if c["phase"] == "Running":
            pass
        elif failed:
            wf_phase, wf_msg = "Failed", "child '%s' failed" % (group["id"] if group else last_pods[0]["id"])
        else:
            wf_phase = "Succeeded"
    elif not running:
        wf_phase = "Failed" if failed else "Succeeded"
        if failed:
            wf_msg = "child '%s' failed" % (group["id"] if group else last_pods[0]["id"])
    tmpl_name = "parallel-pipeline" if a.style == "fanout" else "retry-traits"
    root = b.node(wf, wf, "DAG", wf_phase, created, None, tmpl=tmpl_name, children=root_children)
    if wf_phase != "Running":
        fin = max(n["finishedAt"] for n in b.nodes.values() if n["finishedAt"])
        root["finishedAt"] = fin
    b.nodes = {root["id"]: b.nodes.pop(root["id"]), **b.nodes}
    progress = b.progress()
    labels = {"pipeline": "gapit3-gwas", "stage": "production" if a.style == "fanout" else "retry",
              "workflows.argoproj.io/creator": "9c4b3f7e-5e0d-4a3b-a0f1-2b8c7d6e5f40",
              "workflows.argoproj.io/phase": wf_phase}
    if wf_phase != "Running":
        labels["workflows.argoproj.io/completed"] = "true"
    for kv in a.label:
        k, v = kv.split("=", 1)
        labels[k] = v
    params = list(WF_PARAMS)
    if a.style != "fanout":
        params = [p for p in params if p[0] not in ("start-trait-index", "end-trait-index")]
    status = {"phase": wf_phase, "startedAt": ts(created), "finishedAt": root["finishedAt"],
              "estimatedDuration": 86400 if a.style == "fanout" else 5400, "progress": progress}
    if wf_msg:
        status["message"] = wf_msg
    status["nodes"] = b.nodes
    status["storedTemplates"] = stored_templates(a.aggregate)
    status["conditions"] = [{"type": "PodRunning", "status": "False"}]
    if wf_phase != "Running":
        status["conditions"].append({"type": "Completed", "status": "True"})
    pods = [n for n in b.nodes.values() if n["type"] == "Pod"]
    status["resourcesDuration"] = {"cpu": sum(n.get("resourcesDuration", {}).get("cpu", 0) for n in pods),
                                   "memory": sum(n.get("resourcesDuration", {}).get("memory", 0) for n in pods)}
    status["taskResultsCompletionStatus"] = {n["id"]: bool(n["finishedAt"]) for n in pods}
    return {"metadata": {"name": wf, "generateName": wf[:-5], "namespace": NS,
                         "uid": "%08x-5c1e-4d6b-9a7e-%012x" % (fnv32a(wf), fnv32a(wf + "uid") * 4099),
                         "resourceVersion": str(88000000 + len(b.nodes) * 37), "generation": 2 + len(b.nodes),
                         "creationTimestamp": ts(created), "labels": labels,
                         "annotations": {"workflows.argoproj.io/pod-name-format": "v2"}},
            "spec": spec(a, tmpl_name, traits, params), "status": status}


def spec(a, entry, traits, params):
    args = {"parameters": [{"name": k, "value": v} for k, v in params]}
    passed = [{"name": k, "value": "{{workflow.parameters.%s}}" % k} for k in PASSED]
    if a.style == "fanout":
        task = {"name": "run-all-traits", "dependencies": [] if a.traits else ["extract-traits"],
                "templateRef": TRAIT_TMPL,
                "arguments": {"parameters": [{"name": "trait-index", "value": "{{item}}"},
                                             {"name": "trait-name", "value": "trait-{{item}}"}] + passed}}
        if a.traits:
            task["withParam"] = "{{workflow.parameters.traits}}"
            args["parameters"].append({"name": "traits", "value": json.dumps(traits, separators=(",", ":"))})
        else:
            task["withSequence"] = {"start": "{{workflow.parameters.start-trait-index}}",
                                    "end": "{{workflow.parameters.end-trait-index}}"}
        tasks = [task] if a.traits else [{"name": "validate-inputs", "template": "validate"},
                                         {"name": "extract-traits", "dependencies": ["validate-inputs"],
                                          "template": "extract-traits-inline"}, task]
        after = ["run-all-traits"]
    else:
        tasks = [{"name": "retry-trait-%d" % t, "templateRef": TRAIT_TMPL,
                  "arguments": {"parameters": [{"name": "trait-index", "value": str(t)},
                                               {"name": "trait-name", "value": "retry-trait-%d" % t}] + passed}}
                 for t in traits]
        after = [t["name"] for t in tasks]
    if a.aggregate:
        tasks.append({"name": "collect-results", "dependencies": after, "templateRef": COLLECT_TMPL,
                      "arguments": {"parameters": [{"name": "image", "value": "{{workflow.parameters.image}}"},
                                                   {"name": "batch-id", "value": "{{workflow.name}}"}]}})
    return {"templates": [{"name": entry, "inputs": {}, "outputs": {}, "metadata": {}, "dag": {"tasks": tasks}}],
            "entrypoint": entry, "arguments": args, "serviceAccountName": "default",
            "volumes": [{"name": "nfs-data", "hostPath": {"path": "{{workflow.parameters.data-hostpath}}", "type": "Directory"}},
                        {"name": "nfs-outputs", "hostPath": {"path": "{{workflow.parameters.output-hostpath}}",
                                                             "type": "DirectoryOrCreate"}}],
            "parallelism": 10, "activeDeadlineSeconds": 604800}


def stored_templates(aggregate):
    env = [{"name": k.upper().replace("-", "_"), "value": "{{inputs.parameters.%s}}" % k} for k in PASSED[1:]]
    run = {"name": "run-gwas",
           "inputs": {"parameters": [{"name": "trait-index"}, {"name": "trait-name"}] + [{"name": k} for k in PASSED]},
           "outputs": {},
           "metadata": {"annotations": {"runai/preemptible": "true"},
                        "labels": {"app": "gapit3-gwas", "component": "single-trait-highmem",
                                   "trait-index": "{{inputs.parameters.trait-index}}"}},
           "container": {"name": "", "image": "{{inputs.parameters.image}}", "command": ["/scripts/entrypoint.sh"],
                         "args": ["run-single-trait"],
                         "env": env + [{"name": "OPENBLAS_NUM_THREADS", "value": "16"},
                                       {"name": "TRAIT_INDEX", "value": "{{inputs.parameters.trait-index}}"},
                                       {"name": "RETRY_ATTEMPT", "value": "{{retries}}"}],
                         "resources": {"limits": {"cpu": "20", "memory": "104Gi"},
                                       "requests": {"cpu": "16", "memory": "96Gi"}},
                         "volumeMounts": [{"name": "nfs-data", "readOnly": True, "mountPath": "/data"},
                                          {"name": "nfs-outputs", "mountPath": "/outputs"}],
                         "imagePullPolicy": "Always"},
           "retryStrategy": {"limit": 3, "retryPolicy": "OnFailure",
                             "backoff": {"duration": "5m", "factor": 2, "maxDuration": "30m"}}}
    out = {"namespaced/gapit3-gwas-single-trait-highmem/run-gwas": run}
    if aggregate:
        out["namespaced/gapit3-results-collector/collect-results"] = {
            "name": "collect-results", "inputs": {"parameters": [{"name": "image"}, {"name": "batch-id"}]},
            "outputs": {}, "metadata": {},
            "container": {"name": "", "image": "{{inputs.parameters.image}}", "command": ["Rscript"],
                          "args": ["/scripts/collect_results.R", "--output-dir", "/outputs", "--batch-id",
                                   "{{inputs.parameters.batch-id}}"],
                          "resources": {"limits": {"cpu": "8", "memory": "16Gi"},
                                        "requests": {"cpu": "4", "memory": "8Gi"}},
                          "volumeMounts": [{"name": "nfs-outputs", "mountPath": "/outputs"}],
                          "imagePullPolicy": "Always"}}
    return out


# --- kubectl views of two pods of the 186-item workflow (what expt saves as pod facts) ----------

def pod_name(wf, node):
    """workflow/util/pod_name.go GeneratePodName, v2 scheme."""
    if node["name"] == wf:
        return wf
    tmpl = node["templateRef"]["template"] if "templateRef" in node else node.get("templateName", "")
    prefix = ("%s-%s" % (wf, tmpl) if tmpl else wf)[:242]
    return "%s-%d" % (prefix, fnv32a(node["name"]))


def pod_json(w, node, state):
    """`kubectl get pod POD -n NS -o json` of an Argo (emissary) pod; state: stuck | oom."""
    wf, ns = w["metadata"]["name"], w["metadata"]["namespace"]
    name, host = pod_name(wf, node), node.get("hostNodeName", "manticore-07")
    start, end = node["startedAt"], node["finishedAt"]
    trait = next(p["value"] for p in node["inputs"]["parameters"] if p["name"] == "trait-index")
    exe = "quay.io/argoproj/argoexec:v3.5.5"
    image = next(p["value"] for p in node["inputs"]["parameters"] if p["name"] == "image")
    mounts = [{"name": "var-run-argo", "mountPath": "/var/run/argo"}]
    spec = {"volumes": [{"name": "var-run-argo", "emptyDir": {}},
                        {"name": "nfs-data", "hostPath": {"path": DATA + "/data", "type": "Directory"}},
                        {"name": "nfs-outputs", "hostPath": {"path": DATA + "/outputs", "type": "DirectoryOrCreate"}}],
            "initContainers": [{"name": "init", "image": exe, "command": ["argoexec", "init", "--loglevel", "info"],
                                "volumeMounts": mounts}],
            "containers": [{"name": "wait", "image": exe, "command": ["argoexec", "wait", "--loglevel", "info"],
                            "volumeMounts": mounts},
                           {"name": "main", "image": image, "command": ["/var/run/argo/argoexec", "emissary", "--",
                                                                       "/scripts/entrypoint.sh"],
                            "args": ["run-single-trait"],
                            "resources": {"limits": {"cpu": "20", "memory": "104Gi"},
                                          "requests": {"cpu": "16", "memory": "96Gi"}},
                            "volumeMounts": mounts + [{"name": "nfs-data", "readOnly": True, "mountPath": "/data"},
                                                      {"name": "nfs-outputs", "mountPath": "/outputs"}]}],
            "restartPolicy": "Never", "serviceAccountName": "default", "serviceAccount": "default",
            "nodeName": host, "schedulerName": "runai-scheduler", "priority": 0}
    if state == "stuck":
        status = {"phase": "Pending",
                  "conditions": [{"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None,
                                  "lastTransitionTime": start},
                                 {"type": "Initialized", "status": "False", "lastProbeTime": None,
                                  "lastTransitionTime": start, "reason": "ContainersNotInitialized",
                                  "message": "containers with incomplete status: [init]"},
                                 {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": start,
                                  "reason": "ContainersNotReady", "message": "containers with unready status: [wait main]"},
                                 {"type": "ContainersReady", "status": "False", "lastProbeTime": None,
                                  "lastTransitionTime": start, "reason": "ContainersNotReady",
                                  "message": "containers with unready status: [wait main]"},
                                 {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": start}],
                  "hostIP": "10.42.7.1", "podIP": "10.244.7.31", "startTime": start, "qosClass": "Burstable",
                  "initContainerStatuses": [{"name": "init", "state": {"running": {"startedAt": start}}, "lastState": {},
                                             "ready": False, "restartCount": 0, "image": exe, "imageID": "",
                                             "started": True}],
                  "containerStatuses": [{"name": n, "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {},
                                         "ready": False, "restartCount": 0, "image": img, "imageID": "", "started": False}
                                        for n, img in (("main", image), ("wait", exe))]}
    else:
        term = {"exitCode": 137, "reason": "OOMKilled", "startedAt": start, "finishedAt": end,
                "containerID": "containerd://%064x" % fnv32a(name)}
        status = {"phase": "Failed",
                  "conditions": [{"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": start},
                                 {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": end,
                                  "reason": "PodFailed"},
                                 {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": start}],
                  "hostIP": "10.42.3.1", "podIP": "10.244.3.17", "startTime": start, "qosClass": "Burstable",
                  "initContainerStatuses": [{"name": "init", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                                                     "startedAt": start, "finishedAt": start}},
                                             "lastState": {}, "ready": True, "restartCount": 0, "image": exe,
                                             "imageID": "", "started": False}],
                  "containerStatuses": [{"name": "main", "state": {"terminated": term}, "lastState": {}, "ready": False,
                                         "restartCount": 0, "image": image, "imageID": "", "started": False},
                                        {"name": "wait", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                                                  "startedAt": start, "finishedAt": end}},
                                         "lastState": {}, "ready": False, "restartCount": 0, "image": exe, "imageID": "",
                                         "started": False}]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": "%08x-0000-4000-8000-%012x" % (fnv32a(name), fnv32a(name)),
                         "resourceVersion": "88123456", "creationTimestamp": start,
                         "labels": {"app": "gapit3-gwas", "component": "single-trait-highmem", "trait-index": trait,
                                    "workflows.argoproj.io/completed": "false" if state == "stuck" else "true",
                                    "workflows.argoproj.io/workflow": wf},
                         "annotations": {"kubectl.kubernetes.io/default-container": "main", "runai/preemptible": "true",
                                         "workflows.argoproj.io/node-id": node["id"],
                                         "workflows.argoproj.io/node-name": node["name"]},
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": wf,
                                              "uid": w["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": spec, "status": status}


def events_json(pod, failed_mount):
    """`kubectl get events -n NS --field-selector involvedObject.name=POD -o json` (kubectl prints a List)."""
    meta, host, start = pod["metadata"], pod["spec"]["nodeName"], pod["status"]["startTime"]
    rows = [("Normal", "Scheduled", "runai-scheduler", None,
             "Successfully assigned %s/%s to %s" % (meta["namespace"], meta["name"], host), 1, start)]
    if failed_mount:
        rows.append(("Warning", "FailedMount", "kubelet", None,
                     'MountVolume.SetUp failed for volume "nfs-data" : hostPath type check failed: %s/data is not a directory'
                     % DATA, 64, start))
    else:
        rows += [("Normal", "Pulled", "kubelet", "spec.initContainers{init}",
                  'Container image "quay.io/argoproj/argoexec:v3.5.5" already present on machine', 1, start),
                 ("Normal", "Created", "kubelet", "spec.initContainers{init}", "Created container init", 1, start),
                 ("Normal", "Started", "kubelet", "spec.initContainers{init}", "Started container init", 1, start)]
    items = []
    for i, (typ, reason, comp, field, msg, count, t) in enumerate(rows):
        obj = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
               "apiVersion": "v1", "resourceVersion": "88123400"}
        if field:
            obj["fieldPath"] = field
        items.append({"apiVersion": "v1", "kind": "Event",
                      "metadata": {"name": "%s.%016x" % (meta["name"], fnv32a(reason) * 65599 + i),
                                   "namespace": meta["namespace"], "uid": "%08x-1111-4111-8111-%012x" % (fnv32a(msg), i),
                                   "resourceVersion": str(88123500 + i), "creationTimestamp": t},
                      "involvedObject": obj, "reason": reason, "message": msg,
                      "source": {"component": comp} if comp != "kubelet" else {"component": "kubelet", "host": host},
                      "firstTimestamp": t, "lastTimestamp": t, "count": count, "type": typ, "eventTime": None,
                      "reportingComponent": comp, "reportingInstance": host if comp == "kubelet" else ""})
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=4, ensure_ascii=False) + "\n")   # kubectl -o json: 4-space indent


def write_pods(w):
    nodes = w["status"]["nodes"].values()
    stuck = next(n for n in nodes if n["type"] == "Pod" and n["phase"] == "Pending")
    oomed = max((n for n in nodes if n["type"] == "Pod" and "OOMKilled" in (n.get("message") or "")),
                key=lambda n: (n["displayName"].startswith("run-all-traits(3:5)"), n["displayName"]))
    sp, op = pod_json(w, stuck, "stuck"), pod_json(w, oomed, "oom")
    write_json("gwas-186-items.pod-stuck.json", sp)
    write_json("gwas-186-items.events-stuck.json", events_json(sp, False))
    write_json("gwas-186-items.pod-oom.json", op)
    write_json("gwas-186-items.events-failedmount.json", events_json(sp, True))


def ints(text):
    return [int(x) for x in text.split(",") if x]


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="gapit3-gwas-parallel-h5nzl")
    p.add_argument("--items", type=int, default=186, help="withSequence items 2..items+1 (ignored with --traits)")
    p.add_argument("--traits", type=ints, default=None, help="explicit item values (withParam / retry tasks)")
    p.add_argument("--style", choices=["fanout", "tasks"], default="fanout",
                   help="fanout: run-all-traits(i:trait); tasks: retry-trait-N (retry-argo-traits.sh)")
    p.add_argument("--oom", type=ints, default=[5, 28, 29], help="items whose 4 attempts are OOMKilled")
    p.add_argument("--stuck", type=ints, default=[30], help="items whose pod sits in PodInitializing")
    p.add_argument("--live", type=ints, default=[], help="items whose pod is Running")
    p.add_argument("--flaky", type=ints, default=[12, 40, 77, 101, 133, 150, 160, 170],
                   help="items that fail once (exit 1) and succeed on the second attempt")
    p.add_argument("--aggregate", action="store_true", help="add the collect-results task")
    p.add_argument("--phase", choices=["running", "succeeded", "failed"], default="running",
                   help="state of the aggregation step / workflow once no item is live")
    p.add_argument("--argo36", action="store_true", help="Argo <= 3.6 messages (no 'main: ' prefix)")
    p.add_argument("--label", action="append", default=[], help="extra metadata label k=v")
    p.add_argument("--seed", type=int, default=186)
    p.add_argument("--out", default="gwas-186-items.json")
    p.add_argument("--all", action="store_true", help="write every fixture listed in SOURCES.md")
    return p


def write(a):
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(json.dumps(build(a), indent=4, ensure_ascii=False) + "\n")   # argo get: 4-space indent


def main():
    p = parser()
    a = p.parse_args()
    if not a.all:
        return write(a)
    write(p.parse_args(["--out", "gwas-186-items.json"]))
    with open("gwas-186-items.json", encoding="utf-8") as f:
        write_pods(json.load(f))
    retry = ["--name", "gapit3-gwas-retry-h5nzl-7qk2m", "--traits", "5,28,29,30", "--style", "tasks",
             "--oom", "", "--stuck", "", "--flaky", "", "--aggregate"]
    write(p.parse_args(retry + ["--live", "5,28,29,30", "--out", "gwas-retry-4-items-running.json"]))
    write(p.parse_args(retry + ["--phase", "succeeded", "--out", "gwas-retry-4-items-succeeded.json"]))


if __name__ == "__main__":
    main()
