# Fake of wandb 0.31.0 wandb/apis/public/sweeps.py Sweep: only its identity (Run.sweep).
from wandb._fake import Strict, log


class Sweep(Strict):
    _fake_name = "Sweep"

    def __init__(self, entity, project, sweep_id):
        self._fake_entity, self._fake_project, self._fake_id = entity, project, sweep_id

    def _fake_log(self, what):
        log("Sweep." + what, path="%s/%s/%s" % (self._fake_entity, self._fake_project, self._fake_id))

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
    def name(self):
        # sweeps.py Sweep.name: the config's name or the id
        self._fake_log("name")
        return self._fake_id

    def __repr__(self):
        return "<Sweep %s/%s/%s>" % (self._fake_entity, self._fake_project, self._fake_id)
