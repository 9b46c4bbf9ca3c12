# fake wandb: a strict stand-in for the parts of the wandb Python package that expt's
# templates/wandb-helper.py uses, for end-to-end tests where no W&B server can run. Put
# Tests/EndToEndTests/Fixtures/fake-wandb-module on PYTHONPATH. Standard library only.
#
# It answers exactly these (shapes copied from wandb 0.31.0, site-packages/wandb/...):
#   import wandb; wandb.__version__; wandb.errors; wandb.apis.public.{Api, Run, Project, Sweep}
#   wandb.errors.{Error, CommError, AuthenticationError, UsageError, UnsupportedError,
#                 WandbCoreNotAvailableError}                (errors/errors.py, copied unchanged)
#   wandb.Api(overrides=None, timeout=N)                      (apis/public/api.py Api.__init__)
#       timeout= is required and api_key= is refused (expt never passes the key).
#       logged_in false  -> UsageError("No API key configured. Use `wandb login` to log in.")
#                           (sdk/lib/wbauth/authenticate.py, no terminal to prompt on)
#       "unreachable"    -> AuthenticationError("Failed to verify credentials with HOST: Failed to
#                           execute API request: the service process is busy and did not respond
#                           in time.") from WandbApiFailedError (sdk/wandb_login.py _verify_login;
#                           the text observed with the real 0.31.0, fake key, no network)
#       "invalid"        -> the same with WandbApiFailedError(http_status 401); its text
#                           "HTTP 401: user is not logged in" is the fake's own (it comes from the
#                           server through wandb-core, not from the Python sources)
#       HOST = overrides["base_url"] or WANDB_BASE_URL or https://api.forge.coreweave.com
#   Api.run("entity/project/id" | "entity/project/runs/id")   (api.py Api.run, _parse_path)
#       missing run or project -> runs.RunNotFoundError("Could not find run <Run e/p/id (not found)>")
#       (runs.py _load_with_fragment; the real client says the same for a missing project);
#       scenario run_errors[path] -> WandbApiFailedError(message, response?) unwrapped, as
#       Run.__init__ -> load() raises it (no http_status: a transport failure)
#   Api.project(name, entity=E) -> Project; Project.id/.name/.entity
#       Project.id of a missing project -> ValueError("Project NAME not found") (projects.py)
#   Run.state .url .entity .project .id .path .name .heartbeat_at .heartbeatAt .sweep_name .sweep
#       .tags (get, and set to a list) .summary .config
#   Run.summary.keys() .get(k, default) .items() [k] `k in`     (summary.py SummarySubDict)
#   Run.config: {"value": x} unwrapped and _wandb/wandb_version dropped, as runs.py
#       _load_from_attrs (scenario "config_wrapped": true returns the stored dict unchanged)
#   Run.history(samples=500, keys=[...], x_axis="_step", pandas=False, stream="default")
#       rows of scenario history holding every key, as {x_axis: ..., key: ...}, evenly sampled
#       down to `samples` (first and last kept); pandas=True or keys=None are unexpected
#   Run.update()          persists tags (runs.py Run.update, UpsertBucket)
#   Run.update_state(s)   (runs.py 0.31.0) to pending from running|failed|crashed|preempted, to
#       failed from pending|running, never a sweep run; a refusal raises CommError(msg,
#       WandbApiFailedError(msg, http_status 400)) as normalize_exceptions does (the wording is
#       the fake's: the server's is not in the client). With scenario update_state false the Run
#       class has no update_state (hasattr False, AttributeError), as wandb 0.18.7.
#   Sweep.entity .project .id .name
# Anything else (another attribute of wandb, Api, Run, Summary, Project or Sweep; setting an
# attribute other than Run.tags) is logged with "unexpected": true and raises
# AssertionError("fake wandb: unexpected call ...").
#
# State: the directory in EXPT_FAKE_WANDB_STATE.
#   scenario.json   written by the test (and rewritten by update/update_state):
#     version       wandb.__version__ (default "0.31.0")
#     installed     false: `import wandb` raises ModuleNotFoundError, as with no wandb at all
#     logged_in     true (default) | false | "invalid" | "unreachable"
#     update_state  true (default) | false (no Run.update_state, as wandb 0.18.7)
#     projects      ["entity/project", ...]: the projects that exist (default: those of "runs")
#     runs          {"entity/project/id": {"state": "running", "heartbeatAt": "2026-12-02T10:00:00Z",
#                    "url"?: ..., "sweep": "sweepid" | null, "tags": [], "name"?: ...,
#                    "summary": {"_step": 3, "_runtime": 12.5, "epoch": 0, "loss": 0.25, ...},
#                    "config": {"max_steps": 8, ...}, "history": [{"_step": 0, "loss": 1.0}, ...]}}
#                   url default https://wandb.ai/ENTITY/PROJECT/runs/ID; a NaN loss can be
#                   written as the bare JSON token NaN (Python's json reads it) or as a string
#     run_errors    {"entity/project/id": {"message": M, "http_status"?: N}}: Api.run fails so
#     config_wrapped  see Run.config
#   calls.jsonl     one line per call: {"call": "Api.run", "args": [...], "kwargs": {...},
#                   "path": ..., "unexpected": true?, "note": ..., "pid": N}; property reads are
#                   calls too ("Run.state", "Run.summary.get", ...)
#   scenario.json.lock  the lock around rewrites
import os as _os

if _os.environ.get("EXPT_FAKE_WANDB_STATE"):
    import json as _json
    try:
        with open(_os.path.join(_os.environ["EXPT_FAKE_WANDB_STATE"], "scenario.json"), encoding="utf-8") as _f:
            _installed = _json.load(_f).get("installed", True)
    except (OSError, ValueError):
        _installed = True
    if _installed is False:
        raise ModuleNotFoundError("No module named 'wandb'", name="wandb")

from wandb import _fake
from wandb._fake import log as _log, unexpected as _unexpected

__version__ = str(_fake.SCENARIO.get("version", "0.31.0"))

from wandb import errors
from wandb import apis
from wandb.apis.public import Api

_log("import wandb", version=__version__)


def __getattr__(name):
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    _unexpected("wandb." + name, "not answered by the fake")
