# As wandb 0.31.0 wandb/errors/__init__.py.
__all__ = (
    "Error",
    "CommError",
    "AuthenticationError",
    "UsageError",
    "UnsupportedError",
    "WandbCoreNotAvailableError",
)

from .errors import (
    AuthenticationError,
    CommError,
    Error,
    UnsupportedError,
    UsageError,
    WandbCoreNotAvailableError,
)
