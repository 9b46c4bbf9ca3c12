# Fake of wandb 0.31.0 wandb/apis/public/runs.py: Run and RunNotFoundError (see wandb/__init__.py).
import copy

from wandb import _fake
from wandb.errors import CommError
from wandb._fake import Strict, log, unexpected

WANDB_INTERNAL_KEYS = {"_wandb", "wandb_version"}   # runs.py WANDB_INTERNAL_KEYS


class RunNotFoundError(ValueError):
    """Raised when a run's data is not able to be loaded."""


class WandbApiFailedError(Exception):
    """As wandb/sdk/lib/service/service_connection.py WandbApiFailedError(message, response)."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response


WandbApiFailedError.__module__ = "wandb.sdk.lib.service.service_connection"


class ApiErrorResponse:
    """The two fields of wandb_api_pb2.ApiErrorResponse that callers read."""

    def __init__(self, message, http_status=0):
        self.message = message
        self.http_status = http_status or 0


class Summary(Strict):
    """HTTPSummary (apis/public/summary.py, a SummarySubDict): keys/get/items/[]/in."""
    _fake_name = "Run.summary"

    def __init__(self, values, path):
        self._fake_values = dict(values)
        self._fake_path = path

    def keys(self):
        log("Run.summary.keys", path=self._fake_path)
        return self._fake_values.keys()

    def get(self, k, default=None):
        log("Run.summary.get", path=self._fake_path, args=[k])
        return self._fake_values.get(k.strip() if isinstance(k, str) else k, default)

    def items(self):
        log("Run.summary.items", path=self._fake_path)
        return iter(list(self._fake_values.items()))

    def __getitem__(self, k):
        log("Run.summary[]", path=self._fake_path, args=[k])
        return self._fake_values[k]

    def __contains__(self, k):
        return k in self._fake_values


class Run(Strict):
    """A run loaded by Api.run (lazy=False in 0.31.0 api.py Api.run: the full RUN_FRAGMENT)."""
    _fake_name = "Run"

    def __init__(self, entity, project, run_id, attrs):
        self._fake_entity = entity
        self._fake_project = project
        self._fake_id = run_id
        self._fake_attrs = copy.deepcopy(attrs)
        self._fake_tags = list(self._fake_attrs.get("tags") or [])

    # --- identity ----------------------------------------------------------------------------
    @property
    def _fake_key(self):
        return "%s/%s/%s" % (self._fake_entity, self._fake_project, self._fake_id)

    def _fake_log(self, call, **fields):
        log("Run." + call, path=self._fake_key, **fields)

    def __repr__(self):
        # runs.py _string_representation: f"<Run {'/'.join(self.path)} ({self.state})>"
        return "<Run %s (%s)>" % (self._fake_key, self._fake_attrs.get("state", "running"))

    @property
    def entity(self):
        self._fake_log("entity")
        return self._fake_entity

    @property
    def project(self):
        self._fake_log("project")
        return self._fake_project

    @property
    def id(self):
        self._fake_log("id")
        return self._fake_id

    @property
    def path(self):
        self._fake_log("path")
        return [self._fake_entity, self._fake_project, self._fake_id]

    @property
    def name(self):
        self._fake_log("name")
        return self._fake_attrs.get("name")

    # --- what the helper reads --------------------------------------------------------------
    @property
    def state(self):
        self._fake_log("state")
        return self._fake_attrs.get("state", "running")

    @property
    def url(self):
        # The real one is app_url + entity/project/runs/id (runs.py Run.url); the fake defaults
        # to the public app.
        self._fake_log("url")
        return self._fake_attrs.get("url") or "https://wandb.ai/%s/%s/runs/%s" % (
            self._fake_entity, self._fake_project, self._fake_id)

    @property
    def heartbeat_at(self):
        # heartbeatAt is in RUN_FRAGMENT; Attrs.__getattr__ maps heartbeat_at -> heartbeatAt.
        self._fake_log("heartbeat_at")
        return self._fake_attrs.get("heartbeatAt")

    @property
    def heartbeatAt(self):  # noqa: N802 (the GraphQL name, also reachable through Attrs)
        self._fake_log("heartbeatAt")
        return self._fake_attrs.get("heartbeatAt")

    @property
    def sweep_name(self):
        # runs.py Run.sweep_name: self._attrs.get("sweepName"), the sweep's id (its name).
        self._fake_log("sweep_name")
        return self._fake_attrs.get("sweep") or None

    @property
    def sweep(self):
        # runs.py Run.sweep: _load_sweep() -> sweeps._get_sweep(..., withRuns=False), or None.
        self._fake_log("sweep")
        name = self._fake_attrs.get("sweep")
        if not name:
            return None
        from wandb.apis.public.sweeps import Sweep
        return Sweep(self._fake_entity, self._fake_project, name)

    @property
    def tags(self):
        # The real one returns _attrs["tags"] itself, so appending to it changes the run.
        self._fake_log("tags")
        return self._fake_tags

    @tags.setter
    def tags(self, value):
        # Attrs has no __setattr__: assigning shadows the attribute; update() sends self.tags.
        self._fake_log("tags=", args=[list(value)])
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            unexpected("Run.tags = %r" % (value,), "tags must be a list of strings")
        self._fake_tags = list(value)

    @property
    def summary(self):
        self._fake_log("summary")
        return Summary(self._fake_attrs.get("summary") or {}, self._fake_key)

    @property
    def config(self):
        # runs.py _load_from_attrs: {"value": x} unwrapped, _wandb/wandb_version moved to rawconfig.
        self._fake_log("config")
        raw = self._fake_attrs.get("config") or {}
        if _fake.SCENARIO.get("config_wrapped"):
            return copy.deepcopy(raw)
        out = {}
        for k, v in raw.items():
            if k in WANDB_INTERNAL_KEYS:
                continue
            out[k] = v["value"] if isinstance(v, dict) and "value" in v else v
        return copy.deepcopy(out)

    def history(self, samples=500, keys=None, x_axis="_step", pandas=True, stream="default"):
        # runs.py Run.history(samples=500, keys=None, x_axis="_step", pandas=True, stream="default")
        self._fake_log("history", kwargs={"samples": samples, "keys": keys, "x_axis": x_axis,
                                          "pandas": pandas, "stream": stream})
        if pandas:
            unexpected("Run.history(pandas=True)", "the fake has no pandas; pass pandas=False")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            unexpected("Run.history(keys=%r)" % (keys,), "the fake answers only a non-empty list of keys")
        if stream != "default":
            unexpected("Run.history(stream=%r)" % (stream,))
        # _sampled_history: spec {"keys": [x_axis] + keys, "samples": samples}; rows hold those keys.
        want = [x_axis] + [k for k in keys if k != x_axis]
        rows = [{k: r[k] for k in want if k in r} for r in (self._fake_attrs.get("history") or [])
                if all(k in r for k in keys)]
        return _fake.sample(rows, int(samples))

    # --- what the helper changes --------------------------------------------------------------
    def update(self):
        # runs.py Run.update(): UpsertBucket with tags (and description, notes, config...).
        tags = list(self._fake_tags)
        self._fake_log("update", tags=tags)
        key = self._fake_key

        def apply(s):
            s["runs"][key]["tags"] = tags
        _fake.mutate(apply)
        self._fake_attrs["tags"] = tags

    def update_state(self, state):
        """runs.py Run.update_state (0.31.0): the docstring's rules, which the server enforces:
        to `pending` from running|failed|crashed|preempted, to `failed` from pending|running,
        never for a sweep run. The real client gets the server's GraphQL error through
        normalize_exceptions as CommError(message, WandbApiFailedError); the server's wording is
        not in the client, so the messages below are the fake's own."""
        key = self._fake_key
        self._fake_log("update_state", args=[state])
        allowed = {"pending": ("running", "failed", "crashed", "preempted"), "failed": ("pending", "running")}

        def apply(s):
            run = s["runs"][key]
            cur = run.get("state", "running")
            if run.get("sweep"):
                return "cannot update the state of run %s: it belongs to sweep %s" % (key, run["sweep"]), cur
            if state not in allowed:
                return "invalid run state %r: only pending or failed can be set" % (state,), cur
            if cur not in allowed[state]:
                return "cannot change the state of run %s from %s to %s" % (key, cur, state), cur
            run["state"] = state
            return None, state
        refusal, now = _fake.mutate(apply)
        if refusal:
            self._fake_attrs["state"] = now
            raise CommError(refusal, WandbApiFailedError(refusal, ApiErrorResponse(refusal, 400)))
        self._fake_attrs["state"] = state
        return True

    def __getattr__(self, name):
        if name == "update_state":
            # wandb 0.18.7 has no Run.update_state: Attrs.__getattr__ raises AttributeError.
            log("Run.update_state", path=self._fake_key, note="absent (scenario update_state: false)")
            raise AttributeError("%r object has no attribute 'update_state'" % repr(self))
        return Strict.__getattr__(self, name)


if not _fake.SCENARIO.get("update_state", True):
    del Run.update_state
