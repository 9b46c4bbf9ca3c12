# The state, call log and strictness of the fake wandb package (see wandb/__init__.py for the
# list of answered calls and the scenario.json schema). Standard library only.
import base64, fcntl, json, os, sys

STATE_ENV = "EXPT_FAKE_WANDB_STATE"
DEFAULT_BASE_URL = "https://api.forge.coreweave.com"   # wandb 0.31.0 sdk/lib/urls.py DEFAULT_BASE_URL


def state_dir():
    d = os.environ.get(STATE_ENV)
    if not d or not os.path.isdir(d):
        raise AssertionError("fake wandb: %s is not a directory (%r)" % (STATE_ENV, d))
    return d


def _path(name):
    return os.path.join(state_dir(), name)


def log(call, unexpected=False, **fields):
    entry = {"call": call}
    entry.update(fields)
    if unexpected:
        entry["unexpected"] = True
    entry["pid"] = os.getpid()
    try:
        with open(_path("calls.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False, default=repr) + "\n")
    except (OSError, AssertionError):
        pass


def unexpected(call, why=""):
    """Log and raise: the helper did something this fake does not answer."""
    msg = "fake wandb: unexpected call %s%s" % (call, (" (" + why + ")") if why else "")
    log(call, unexpected=True, note=why or None)
    sys.stderr.write(msg + "\n")
    raise AssertionError(msg)


class _Lock:
    def __enter__(self):
        self.f = open(_path("scenario.json.lock"), "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def load():
    p = _path("scenario.json")
    if not os.path.exists(p):
        raise AssertionError("fake wandb: no scenario.json in %s" % state_dir())
    with open(p, encoding="utf-8") as f:
        return json.load(f)    # Python's json reads NaN/Infinity tokens as floats


def mutate(fn):
    """Read scenario.json, apply fn(scenario), write it back, under a lock; returns fn's result.
    The in-memory SCENARIO becomes the written one."""
    global SCENARIO
    with _Lock():
        s = load()
        result = fn(s)
        p = _path("scenario.json")
        with open(p + ".tmp", "w", encoding="utf-8") as f:
            json.dump(s, f, indent=1, ensure_ascii=False)
        os.replace(p + ".tmp", p)
        SCENARIO = s
    return result


def version_tuple(v):
    out = []
    for part in str(v).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def projects(s):
    if "projects" in s:
        return set(s["projects"])
    return {"/".join(p.split("/")[:2]) for p in s.get("runs", {})}


def project_id(entity, name):
    return base64.b64encode(("Project:v1:%s:%s" % (name, entity)).encode()).decode()


def sample(rows, n):
    """At most n rows, evenly spaced, first and last kept (the server samples; the fake is even)."""
    if n <= 0 or len(rows) <= n:
        return list(rows)
    if n == 1:
        return [rows[-1]]
    idx = sorted({round(i * (len(rows) - 1) / (n - 1)) for i in range(n)})
    return [rows[i] for i in idx]


SCENARIO = load()


class Strict:
    """Answers only the attributes its class defines; anything else is an unexpected call."""
    _fake_name = "object"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        unexpected("%s.%s" % (self._fake_name, name), "not answered by the fake")

    def __setattr__(self, name, value):
        attr = getattr(type(self), name, None)
        if name.startswith("_fake_") or (isinstance(attr, property) and attr.fset is not None):
            object.__setattr__(self, name, value)
            return
        unexpected("%s.%s = ..." % (self._fake_name, name), "setting this attribute is not answered")
