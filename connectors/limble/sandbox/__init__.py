"""The Limble sandbox: `start_sandbox` (a thread) or ``python -m connectors.limble.sandbox``."""

from connectors.limble.sandbox.server import SandboxHandle, start_sandbox

__all__ = ["SandboxHandle", "start_sandbox"]
