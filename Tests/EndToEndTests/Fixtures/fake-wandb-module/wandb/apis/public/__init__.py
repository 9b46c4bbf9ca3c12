# As wandb 0.31.0 wandb/apis/public/__init__.py (the names the helper can reach).
from wandb.apis.public.api import Api
from wandb.apis.public.projects import Project
from wandb.apis.public.runs import Run, RunNotFoundError
from wandb.apis.public.sweeps import Sweep
