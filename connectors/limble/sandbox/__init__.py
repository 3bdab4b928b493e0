"""The Limble sandbox: `start_sandbox` (a thread) or ``python -m connectors.limble.sandbox``."""

from connectors.limble.sandbox.server import Faults, SandboxHandle, start_sandbox

__all__ = ["Faults", "SandboxHandle", "start_sandbox"]
