# Fake of wandb 0.31.0 wandb/apis/public/projects.py Project: name, entity, id.
from wandb import _fake
from wandb._fake import Strict, log


class Project(Strict):
    _fake_name = "Project"

    def __init__(self, entity, project):
        self._fake_entity, self._fake_project = entity, project

    @property
    def name(self):
        log("Project.name", path="%s/%s" % (self._fake_entity, self._fake_project))
        return self._fake_project

    @property
    def entity(self):
        log("Project.entity", path="%s/%s" % (self._fake_entity, self._fake_project))
        return self._fake_entity

    @property
    def id(self):
        # projects.py Project.id: loads GetProject; no project -> ValueError(f"Project {self.name} not found")
        key = "%s/%s" % (self._fake_entity, self._fake_project)
        log("Project.id", path=key)
        if key not in _fake.projects(_fake.SCENARIO):
            raise ValueError("Project %s not found" % self._fake_project)
        return _fake.project_id(self._fake_entity, self._fake_project)

    def __repr__(self):
        return "<Project %s/%s>" % (self._fake_entity, self._fake_project)
