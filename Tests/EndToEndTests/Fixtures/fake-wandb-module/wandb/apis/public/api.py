# Fake of wandb 0.31.0 wandb/apis/public/api.py Api: __init__, run, project.
import os

from wandb import _fake
from wandb._fake import Strict, log, unexpected
from wandb.errors import AuthenticationError, UsageError
from wandb.apis.public.runs import ApiErrorResponse, Run, RunNotFoundError, WandbApiFailedError
from wandb.apis.public.projects import Project

# Observed with the real 0.31.0 here (fake key, no network): sdk/wandb_login.py _verify_login
UNREACHABLE = "Failed to execute API request: the service process is busy and did not respond in time."
# The server's words for a rejected key are not in the client sources: the fake's own.
REJECTED = "HTTP 401: user is not logged in"


class Api(Strict):
    _fake_name = "Api"

    def __init__(self, overrides=None, timeout=None, api_key=None):
        s = _fake.SCENARIO
        log("Api", kwargs={"overrides": overrides, "timeout": timeout, "api_key": "<given>" if api_key else None},
            env={"WANDB_BASE_URL": os.environ.get("WANDB_BASE_URL")})
        if api_key is not None:
            unexpected("Api(api_key=...)", "expt never hands the key to wandb itself")
        if timeout is None:
            unexpected("Api() without timeout=", "every W&B request needs a deadline")
        if overrides is not None and not isinstance(overrides, dict):
            unexpected("Api(overrides=%r)" % (overrides,))
        base = ((overrides or {}).get("base_url") or os.environ.get("WANDB_BASE_URL")
                or _fake.DEFAULT_BASE_URL).rstrip("/")
        self._fake_base = base
        logged_in = s.get("logged_in", True)
        if logged_in is False:
            # sdk/lib/wbauth/authenticate.py authenticate_session, no terminal to prompt on
            raise UsageError("No API key configured. Use `wandb login` to log in.")
        if logged_in == "unreachable":
            inner = WandbApiFailedError(UNREACHABLE)
            raise AuthenticationError("Failed to verify credentials with %s: %s" % (base, inner)) from inner
        if logged_in == "invalid":
            inner = WandbApiFailedError(REJECTED, ApiErrorResponse(REJECTED, 401))
            raise AuthenticationError("Failed to verify credentials with %s: %s" % (base, inner)) from inner
        if logged_in is not True:
            unexpected("Api()", "scenario logged_in must be true, false, \"invalid\" or \"unreachable\"")

    def run(self, path=""):
        log("Api.run", args=[path])
        if not isinstance(path, str):
            unexpected("Api.run(%r)" % (path,))
        # api.py _parse_path: "entity/project/runs/id" or "entity/project/id" (the shorter forms
        # need the default entity, a query the fake does not answer)
        parts = path.replace("/runs/", "/").strip("/ ").split("/")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            unexpected("Api.run(%r)" % path, "the fake answers entity/project/id only")
        entity, project, run_id = [p.strip() for p in parts]
        key = "%s/%s/%s" % (entity, project, run_id)
        s = _fake.SCENARIO
        err = (s.get("run_errors") or {}).get(key)
        if err:
            # a failed request: Run.__init__ -> load() -> execute_graphql raises it unwrapped
            status = err.get("http_status")
            raise WandbApiFailedError(err.get("message", UNREACHABLE),
                                      ApiErrorResponse(err.get("message", ""), status) if status else None)
        runs = s.get("runs") or {}
        if "%s/%s" % (entity, project) not in _fake.projects(s) or key not in runs:
            # runs.py _load_with_fragment: response["project"] (or its run) is None
            raise RunNotFoundError("Could not find run <Run %s (not found)>" % key)
        return Run(entity, project, run_id, runs[key])

    def project(self, name, entity=None):
        log("Api.project", args=[name], kwargs={"entity": entity})
        if entity is None:
            unexpected("Api.project(%r) without entity" % name, "the default entity is a query the fake does not answer")
        return Project(entity, name)

    def __repr__(self):
        return "<wandb.apis.public.api.Api object (fake)>"
