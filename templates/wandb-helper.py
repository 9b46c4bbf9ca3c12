# wandb-helper.py: expt's one bridge to the W&B public API (ExptTrackers/WandbTracker.swift).
# expt runs it as `python3 -c "<this text>" VERB` under `timeout -k 2 T`, writes ONE JSON object
# on stdin and reads ONE JSON object from stdout. Standard library + wandb only; wandb is imported
# inside main() so that a Python without wandb still gets a clean answer.
#
# Request keys (all verbs): "timeout" (seconds for every W&B request, default 15; passed as
#   wandb.Api(timeout=...)), "base_url" (optional; exported as WANDB_BASE_URL before Api()).
#   The whole call also has an alarm at timeout + 1 s, so it answers before expt's `timeout`.
# Verbs and answers:
#   version  {}                              -> {"version": V, "update_state": bool}   (no network)
#   fetch    {"paths": ["e/p/id", ...],      -> {"version": V, "runs": {PATH: RUN}, "errors": {PATH: MSG}}
#             "loss_keys": [...]?}
#       RUN = {"state", "heartbeat_at" (the API's heartbeatAt string or null), "url",
#              "sweep" ("e/p/sweepid" or null), "tags", "step" (summary _step, int or null),
#              "epoch" (summary epoch or null), "runtime" (summary _runtime or null),
#              "losses" (last <= 20 values of loss_key, sampled history), "loss_key" (or null),
#              "config" {max_steps, max_epochs, epochs, total_steps, num_train_epochs: only the
#              keys present with a numeric value; a {"value": x} wrapper is unwrapped}}
#       JSON has no NaN/Infinity: such numbers are written as the strings "NaN", "Infinity",
#       "-Infinity" (in "losses" and anywhere else in the answer).
#       MSG starts with "not found: " (run missing: "not found: e/p/id"; project or entity
#       missing: "not found: project e/p"), "invalid path: " or "failed: <Type>: <text>".
#   close    {"path": "e/p/id", "state": "failed"}
#                                            -> {"closed": true, "previous": S0, "state": S1}
#                                               {"closed": false, ...} when already in that state
#   tag      {"path": "e/p/id", "tag": "expt-superseded"}
#                                            -> {"tagged": true|false, "tags": [...]}
# Exit codes (stdout always holds exactly one JSON object):
#   0 answer above
#   2 {"error": "bad_request", "message"}          unknown verb, stdin not a JSON object, bad keys
#   3 {"error": "wandb_missing", "message"}        `import wandb` failed
#   4 {"error": "not_logged_in", "message"}        no API key / key rejected (401/403)
#   5 {"error": "failed", "message": "<Type>: <text>", "reason"?}   anything else; "reason" is
#       "unreachable" (W&B did not answer: transport error or timeout), "timeout" (the alarm),
#       "not_found" (close/tag of a missing run) or "update_state" (the server refused it)
#   6 {"error": "unsupported", "version", "message"}  close with a wandb that has no Run.update_state
# Never prints the API key (messages are scrubbed of WANDB_API_KEY and key-shaped words), never
# runs `wandb status`. wandb's own chatter goes to stderr: fd 1 is pointed at stderr while wandb
# works (also for the wandb-core child it starts) and the answer is written to the saved fd.
#
# Reference: wandb 0.31.0 (lib/python3.11/site-packages/wandb/...):
#   apis/public/api.py   Api.__init__(overrides=None, timeout=None, api_key=None); _load_auth raises
#                        UsageError; _verify_login (sdk/wandb_login.py) raises AuthenticationError
#                        "Failed to verify credentials with HOST: ..." also when W&B is unreachable
#                        ("... the service process is busy and did not respond in time.").
#                        Api.run(path) is not wrapped by normalize_exceptions: a missing run (or
#                        project) raises runs.RunNotFoundError(ValueError) "Could not find run <Run
#                        e/p/id (not found)>"; a failed request raises WandbApiFailedError raw.
#   sdk/lib/wbauth/authenticate.py  no key, stdin/stderr not a terminal -> UsageError("No API key
#                        configured. Use `wandb login` to log in.")
#   apis/public/runs.py  Run.state/url/tags/summary/config; heartbeatAt, sweepName are GraphQL
#                        attrs (Attrs.__getattr__ maps heartbeat_at/sweep_name); Run.sweep would cost
#                        another query, so the sweep path is built from sweep_name.
#                        history(samples=500, keys=None, x_axis="_step", pandas=True, stream=...)
#                        update_state(state) (new in 0.31.0; absent in 0.18.7): the server allows
#                        pending <- running|failed|crashed|preempted, failed <- pending|running, and no
#                        sweep runs. update() persists tags (UpsertBucket).
#   apis/public/projects.py  Project.id raises ValueError("Project P not found").
#   service_connection.py    WandbApiFailedError(message, response); response.http_status.
import json, math, numbers, os, re, signal, sys

DEFAULT_LOSS_KEYS = ["loss", "train/loss", "train_loss", "training_loss"]
CONFIG_KEYS = ["max_steps", "max_epochs", "epochs", "total_steps", "num_train_epochs"]
MAX_LOSSES = 20
HISTORY_SAMPLES = 50


class Answer(Exception):
    def __init__(self, code, obj):
        Exception.__init__(self, code)
        self.code, self.obj = code, obj


class Alarm(BaseException):
    """The overall deadline; a BaseException so that wandb's `except Exception` lets it through."""


def scrub(text):
    """The message without anything that looks like the API key."""
    text = str(text)
    key = os.environ.get("WANDB_API_KEY") or ""
    if len(key) >= 8:
        text = text.replace(key, "<redacted>")
    text = re.sub(r"\bwandb_v\d+_[A-Za-z0-9_]+", "<redacted>", text)
    return re.sub(r"\b[A-Za-z0-9_]{40,}\b", "<redacted>", text)


def describe(e):
    return scrub("%s: %s" % (type(e).__name__, e))


def chain(e):
    seen = []
    while e is not None and e not in seen and len(seen) < 8:
        seen.append(e)
        e = e.__cause__ or getattr(e, "exc", None) or e.__context__
        if not isinstance(e, BaseException):
            e = None
    return seen


def http_status(e):
    for x in chain(e):
        r = getattr(x, "response", None)
        for attr in ("http_status", "status_code"):
            s = getattr(r, attr, None)
            if isinstance(s, int) and s:
                return s
    return None


def classify(e):
    """auth | unreachable | not_found | other."""
    errs = chain(e)
    names = {type(x).__name__ for x in errs}
    text = " | ".join(str(x) for x in errs)
    status = http_status(e)
    if status in (401, 403):
        return "auth"
    if status == 404 or "RunNotFoundError" in names or "Could not find run" in text:
        return "not_found"
    transport = status in (None, 408, 502, 503, 504) and (
        "WandbApiFailedError" in names
        and not any(getattr(x, "response", None) is not None for x in errs)
        or re.search(r"did not respond in time|service process is not running|timed? ?out|"
                     r"[Cc]onnection (refused|reset|error)|[Nn]ame or service not known|"
                     r"[Tt]emporary failure in name resolution|[Nn]etwork is unreachable", text))
    if transport:
        return "unreachable"
    if names & {"UsageError", "AuthenticationError"} or re.search(r"\b40[13]\b|[Uu]nauthori[sz]ed", text):
        return "auth"
    if re.search(r"\bnot found\b", text):
        return "not_found"
    return "other"


def fail(e, reason=None, **extra):
    obj = {"error": "failed", "message": describe(e)}
    if reason:
        obj["reason"] = reason
    obj.update(extra)
    return Answer(5, obj)


def not_logged_in(e):
    return Answer(4, {"error": "not_logged_in", "message": describe(e)})


def service_failure(e, **extra):
    """Ends the call for a failure of the service itself (no key, no network), wherever it
    happens; returns the kind of any other failure for the caller to judge."""
    kind = classify(e)
    if kind == "auth":
        raise not_logged_in(e)
    if kind == "unreachable":
        raise unreachable(e, **extra)
    return kind


def unreachable(e, **extra):
    base = os.environ.get("WANDB_BASE_URL") or "the default W&B server"
    obj = {"error": "failed", "reason": "unreachable",
           "message": scrub("W&B (%s) did not answer: %s: %s" % (base, type(e).__name__, e))}
    obj.update(extra)
    return Answer(5, obj)


def jsonable(v):
    """The answer with NaN/Infinity as strings (JSON cannot hold them)."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return jsonable(float(v))
    return str(v)


NONFINITE = {"nan": float("nan"), "infinity": float("inf"), "inf": float("inf"),
             "-infinity": float("-inf"), "-inf": float("-inf")}


def number(v):
    """A float/int for a numeric value (also the strings NaN/Infinity), else None."""
    if isinstance(v, dict) and "value" in v:
        v = v["value"]
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, str) and v.strip().lower() in NONFINITE:
        return NONFINITE[v.strip().lower()]
    return None


def integer(v):
    n = number(v)
    if isinstance(n, float) and math.isfinite(n) and n == int(n):
        return int(n)
    return n if isinstance(n, int) else None


def parse_path(path):
    if not isinstance(path, str):
        return None
    parts = path.strip().strip("/").split("/")
    if len(parts) == 4 and parts[2] == "runs":
        parts = [parts[0], parts[1], parts[3]]
    if len(parts) != 3 or not all(p.strip() for p in parts):
        return None
    return [p.strip() for p in parts]


def make_api(wandb, timeout):
    try:
        return wandb.Api(timeout=timeout)
    except (Alarm, Answer):
        raise
    except Exception as e:
        if classify(e) == "unreachable":
            raise unreachable(e)
        raise not_logged_in(e)   # the spec: wandb.Api() raising means no usable credentials


def summary_of(run):
    s = run.summary
    keys = list(s.keys())
    return keys, s


def loss_key_of(keys, summary, wanted):
    for k in wanted:
        if k in keys:
            return k
    for k in keys:
        if isinstance(k, str) and not k.startswith("_") and k.endswith("loss") and number(summary.get(k)) is not None:
            return k
    return None


def losses_of(run, key):
    rows = run.history(keys=[key], samples=HISTORY_SAMPLES, pandas=False)
    if not isinstance(rows, list):
        return []
    rows = [r for r in rows if isinstance(r, dict) and key in r]
    if all(isinstance(r.get("_step"), (int, float)) for r in rows):
        rows.sort(key=lambda r: r["_step"])
    out = []
    for r in rows:
        n = number(r[key])
        if n is not None:
            out.append(float(n))
    return out[-MAX_LOSSES:]


def describe_run(run, entity, project, loss_keys):
    keys, summary = summary_of(run)
    try:
        heartbeat = run.heartbeat_at
    except AttributeError:
        heartbeat = None
    try:
        sweep_name = run.sweep_name
    except AttributeError:
        sweep_name = None
    key = loss_key_of(keys, summary, loss_keys)
    cfg = run.config or {}
    config = {}
    for k in CONFIG_KEYS:
        if k in cfg:
            n = number(cfg[k])
            if n is not None and math.isfinite(n):
                config[k] = n
    return {
        "state": run.state,
        "heartbeat_at": heartbeat if isinstance(heartbeat, str) else None,
        "url": run.url,
        "sweep": "%s/%s/%s" % (entity, project, sweep_name) if sweep_name else None,
        "tags": list(run.tags or []),
        "step": integer(summary.get("_step")) if "_step" in keys else None,
        "epoch": number(summary.get("epoch")) if "epoch" in keys else None,
        "runtime": number(summary.get("_runtime")) if "_runtime" in keys else None,
        "losses": losses_of(run, key) if key else [],
        "loss_key": key,
        "config": config,
    }


def project_missing(api, entity, project, cache):
    k = entity + "/" + project
    if k not in cache:
        try:
            api.project(project, entity=entity).id
            cache[k] = False
        except (Alarm, Answer):
            raise
        except Exception as e:
            # "Project P not found"; anything else (a failed request) proves nothing
            cache[k] = "not found" in str(e) and "Unable to fetch" not in str(e)
    return cache[k]


def do_fetch(wandb, req, timeout):
    paths = req.get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise Answer(2, {"error": "bad_request", "message": "fetch needs \"paths\": a list of \"entity/project/runid\""})
    loss_keys = req.get("loss_keys") or DEFAULT_LOSS_KEYS
    if not isinstance(loss_keys, list) or not all(isinstance(k, str) for k in loss_keys):
        raise Answer(2, {"error": "bad_request", "message": "\"loss_keys\" must be a list of strings"})
    runs, errors, projects = {}, {}, {}
    valid = [p for p in paths if parse_path(p)]
    for p in paths:
        if not parse_path(p):
            errors[p] = "invalid path: %r (want entity/project/runid)" % p
    if not valid:
        return {"version": wandb.__version__, "runs": runs, "errors": errors}
    api = make_api(wandb, timeout)
    for path in valid:
        entity, project, rid = parse_path(path)
        try:
            run = api.run("%s/%s/%s" % (entity, project, rid))
            runs[path] = describe_run(run, entity, project, loss_keys)
        except (Alarm, Answer):
            raise
        except Exception as e:
            kind = service_failure(e, runs=runs, errors=errors)
            if kind == "not_found":
                if project_missing(api, entity, project, projects):
                    errors[path] = "not found: project %s/%s" % (entity, project)
                else:
                    errors[path] = "not found: %s/%s/%s" % (entity, project, rid)
            else:
                errors[path] = "failed: " + describe(e)
    return {"version": wandb.__version__, "runs": runs, "errors": errors}


def get_run(wandb, req, timeout):
    path = req.get("path")
    parts = parse_path(path)
    if not parts:
        raise Answer(2, {"error": "bad_request", "message": "\"path\" must be \"entity/project/runid\", not %r" % (path,)})
    api = make_api(wandb, timeout)
    try:
        return api, api.run("/".join(parts)), parts
    except (Alarm, Answer):
        raise
    except Exception as e:
        kind = service_failure(e)
        if kind == "not_found":
            if project_missing(api, parts[0], parts[1], {}):
                msg = "not found: project %s/%s" % (parts[0], parts[1])
            else:
                msg = "not found: " + "/".join(parts)
            raise Answer(5, {"error": "failed", "reason": "not_found", "message": msg})
        raise fail(e)


def run_class(wandb):
    apis = getattr(wandb, "apis", None)
    public = getattr(apis, "public", None)
    return getattr(public, "Run", None)


def unsupported(wandb):
    return Answer(6, {"error": "unsupported", "version": wandb.__version__,
                      "message": "this wandb (%s) has no Run.update_state; closing a run needs a newer "
                                 "wandb (0.31.0 has it)" % wandb.__version__})


def do_close(wandb, req, timeout):
    state = req.get("state", "failed")
    if not isinstance(state, str) or not state:
        raise Answer(2, {"error": "bad_request", "message": "\"state\" must be a run state such as \"failed\""})
    cls = run_class(wandb)
    if cls is not None and not hasattr(cls, "update_state"):
        raise unsupported(wandb)
    api, run, parts = get_run(wandb, req, timeout)
    if not hasattr(run, "update_state"):
        raise unsupported(wandb)
    previous = run.state
    if previous == state:
        return {"closed": False, "previous": previous, "state": previous}
    try:
        ok = run.update_state(state)
    except (Alarm, Answer):
        raise
    except Exception as e:
        service_failure(e, previous=previous)
        raise fail(e, reason="update_state", previous=previous)
    if ok is False:
        raise Answer(5, {"error": "failed", "reason": "update_state", "previous": previous,
                         "message": "W&B did not confirm the state change of %s to %s" % ("/".join(parts), state)})
    return {"closed": True, "previous": previous, "state": run.state}


def do_tag(wandb, req, timeout):
    tag = req.get("tag")
    if not isinstance(tag, str) or not tag:
        raise Answer(2, {"error": "bad_request", "message": "tag needs \"tag\": a non-empty string"})
    api, run, parts = get_run(wandb, req, timeout)
    tags = list(run.tags or [])
    if tag in tags:
        return {"tagged": False, "tags": tags}
    tags.append(tag)
    run.tags = tags
    try:
        run.update()
    except (Alarm, Answer):
        raise
    except Exception as e:
        service_failure(e)
        raise fail(e)
    return {"tagged": True, "tags": tags}


def do_version(wandb, req, timeout):
    cls = run_class(wandb)
    return {"version": wandb.__version__, "update_state": bool(cls is not None and hasattr(cls, "update_state"))}


VERBS = {"fetch": do_fetch, "close": do_close, "tag": do_tag, "version": do_version}


def answer(verb):
    try:
        raw = sys.stdin.read()
    except Exception as e:
        raise Answer(2, {"error": "bad_request", "message": "cannot read the request: " + describe(e)})
    # Nothing wandb does may wait on a terminal: stdin is /dev/null from here on.
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdin = open(os.devnull)
    except OSError:
        pass
    if verb not in VERBS:
        raise Answer(2, {"error": "bad_request", "message": "unknown verb %r (fetch, close, tag, version)" % verb})
    try:
        req = json.loads(raw) if raw.strip() else {}
    except ValueError as e:
        raise Answer(2, {"error": "bad_request", "message": "the request is not JSON: %s" % e})
    if not isinstance(req, dict):
        raise Answer(2, {"error": "bad_request", "message": "the request must be a JSON object"})
    timeout = req.get("timeout", 15)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise Answer(2, {"error": "bad_request", "message": "\"timeout\" must be a positive number of seconds"})
    if isinstance(timeout, float) and timeout.is_integer():
        timeout = int(timeout)
    base_url = req.get("base_url")
    if base_url:
        if not isinstance(base_url, str):
            raise Answer(2, {"error": "bad_request", "message": "\"base_url\" must be a string"})
        os.environ["WANDB_BASE_URL"] = base_url
    budget = int(math.ceil(timeout)) + 1

    def on_alarm(signum, frame):
        raise Alarm("wandb-helper gave up after %d s" % budget)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget)
    try:
        try:
            import wandb
        except ImportError as e:
            raise Answer(3, {"error": "wandb_missing",
                             "message": scrub("wandb is not importable by %s: %s" % (sys.executable, e))})
        except (Alarm, Answer):
            raise
        except Exception as e:
            raise fail(e)
        return VERBS[verb](wandb, req, timeout)
    except Alarm as e:
        raise Answer(5, {"error": "failed", "reason": "timeout", "message": str(e)})
    finally:
        signal.alarm(0)


def main():
    verb = sys.argv[1] if len(sys.argv) > 1 else ""
    sys.stdout.flush()
    out = os.dup(1)          # the answer's channel; not inherited by wandb-core
    os.dup2(2, 1)            # fd 1 (and every child) now writes to stderr
    sys.stdout = sys.stderr
    try:
        code, obj = 0, answer(verb)
    except Answer as a:
        code, obj = a.code, a.obj
    except BaseException as e:   # a bug here or in wandb: still one JSON answer
        code, obj = 5, {"error": "failed", "message": describe(e)}
    try:
        signal.alarm(0)
    except Exception:
        pass
    text = json.dumps(jsonable(obj), allow_nan=False, sort_keys=True) + "\n"
    data = text.encode("utf-8")
    while data:
        n = os.write(out, data)
        data = data[n:]
    os.close(out)
    sys.stderr.flush()
    # Leave at once: wandb's atexit teardown of its service may block, and the answer is out.
    os._exit(code)


main()
