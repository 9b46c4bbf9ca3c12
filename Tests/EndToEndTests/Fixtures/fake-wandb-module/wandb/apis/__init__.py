# As wandb 0.31.0 wandb/apis/__init__.py: holds the public API.
from wandb.apis import public
