"""The Fiix sandbox: `start_sandbox` (a thread) or ``python -m connectors.fiix.sandbox``."""

from connectors.fiix.sandbox.server import DEFAULT_KEYS, SandboxHandle, start_sandbox

__all__ = ["DEFAULT_KEYS", "SandboxHandle", "start_sandbox"]
