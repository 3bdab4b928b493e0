"""Old import path: the lifecycle lives in include/admin/ (lifecycle.py, operations/, errors.py,
guard.py). ``write_guard`` and ``disconnected_dag_spec`` stay light to import (include.admin.guard)."""

from include.admin.base import NewConnection, new_id, validate_config  # noqa: F401
from include.admin.errors import (  # noqa: F401
    AirflowUnavailable,
    Conflict,
    ConnectionNotActive,
    LifecycleError,
    NotFound,
    OutOfCredits,
)
from include.admin.guard import disconnected_dag_spec, write_guard  # noqa: F401
from include.admin.lifecycle import Lifecycle  # noqa: F401
from include.admin.operations.change import PATCHABLE, RESYNC_ALL  # noqa: F401
from include.admin.variable import CAS_ATTEMPTS  # noqa: F401
