#!/usr/bin/env python3
"""The loopback stub API server the kubectl-1.32.4-* captures were made with (REAL-LOCAL: real kubectl
1.32.4 on this machine; the server's answers, Status messages included, are this stub's, written in the
API server's wording). Not used by the tests.

  python3 kube-stub.py 18444 &                       # STUB_MODE=ok | forbidden | nons | invalid
  KUBECONFIG=kc.yaml kubectl create -f - -n ns1 -o name < job.json
with kc.yaml naming server http://127.0.0.1:18444 and an empty user. It answers legacy discovery
(/api, /apis, /api/v1, /apis/batch/v1), an OpenAPI v3 document that advertises fieldValidation on
Job PATCH (without it kubectl 1.32 falls back to /openapi/v2 and refuses: "failed to download
openapi"), the Job create/list/delete and the pod list; every request is logged to requests.log.
"""
import http.server, json, sys, os
MODE = os.environ.get("STUB_MODE", "ok")
LOG = open("requests.log", "a")
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "expt-r1-main-abcde", "namespace": "ns1", "labels": {"expt.run": "r1"}, "uid": "u1", "creationTimestamp": "2026-01-05T10:00:00Z"},
       "spec": {"completions": 2, "completionMode": "Indexed"}, "status": {"active": 1, "completedIndexes": "0"}}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "expt-r1-main-abcde-1-xyz12", "namespace": "ns1", "labels": {"expt.run": "r1"}}, "status": {"phase": "Running"}}
def res(name, kind, ns=True, verbs=("get","list","create","delete")):
    return {"name": name, "singularName": "", "namespaced": ns, "kind": kind, "verbs": list(verbs)}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, obj, ctype="application/json"):
        body = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def status(self, code, reason, msg, details=None):
        self.send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": msg, "reason": reason, "details": details or {}, "code": code})
    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        LOG.write("%s %s accept=%s\n%s\n" % (method, self.path, self.headers.get("Accept"), body[:300])); LOG.flush()
        p = self.path.split("?")[0]
        if p == "/api": return self.send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if p == "/apis": return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]})
        if p == "/api/v1": return self.send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [res("pods", "Pod"), res("pods/log", "Pod", verbs=("get",)), res("events", "Event"), res("namespaces", "Namespace", ns=False)]})
        if p == "/apis/batch/v1": return self.send(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "batch/v1", "resources": [res("jobs", "Job")]})
        if p == "/openapi/v3": return self.send(200, {"paths": {"apis/batch/v1": {"serverRelativeURL": "/openapi/v3/apis/batch/v1?hash=A"}, "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=B"}}})
        if p == "/openapi/v3/apis/batch/v1":
            one = {"parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}], "responses": {}, "x-kubernetes-group-version-kind": {"group": "batch", "version": "v1", "kind": "Job"}}
            op = {"post": one, "patch": one}
            return self.send(200, {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": {"/apis/batch/v1/namespaces/{namespace}/jobs": op}, "components": {"schemas": {}}})
        if p.startswith("/openapi"): return self.status(404, "NotFound", "the server could not find the requested resource")
        if MODE == "forbidden":
            return self.status(403, "Forbidden", 'jobs.batch is forbidden: User "system:serviceaccount:ns1:default" cannot %s resource "jobs" in API group "batch" in the namespace "ns1"' % ("create" if method == "POST" else "list"), {"group": "batch", "kind": "jobs"})
        if MODE == "nons" and method == "POST":
            return self.status(404, "NotFound", 'namespaces "ns1" not found', {"name": "ns1", "kind": "namespaces"})
        if MODE == "invalid" and method == "POST":
            return self.status(422, "Invalid", 'Job.batch "expt-r1-main-" is invalid: spec.template.spec.containers[0].image: Required value', {"name": "expt-r1-main-", "group": "batch", "kind": "Job", "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.template.spec.containers[0].image"}]})
        if method == "POST" and p == "/apis/batch/v1/namespaces/ns1/jobs":
            return self.send(201, JOB)
        if method == "GET" and p == "/apis/batch/v1/namespaces/ns1/jobs":
            return self.send(200, {"kind": "JobList", "apiVersion": "batch/v1", "metadata": {"resourceVersion": "1"}, "items": [JOB]})
        if method == "GET" and p == "/api/v1/namespaces/ns1/pods":
            return self.send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [POD]})
        if method == "DELETE" and p == "/apis/batch/v1/namespaces/ns1/jobs/expt-r1-main-abcde":
            return self.send(200, JOB)
        if method == "DELETE":
            return self.status(404, "NotFound", 'jobs.batch "%s" not found' % p.rsplit("/", 1)[1], {"name": p.rsplit("/", 1)[1], "group": "batch", "kind": "jobs"})
        if method == "GET" and p == "/api/v1/namespaces/ns1":
            return self.send(200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "ns1"}})
        return self.status(404, "NotFound", "the server could not find the requested resource")
    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_DELETE(self): self.handle_any("DELETE")
    def do_PATCH(self): self.handle_any("PATCH")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
