"""The kit's sandbox parts, shared by every system's sandbox.

- `faults`: injected failures (429 + Retry-After, 500, slow, timeout, truncated bodies, protocol-level
  RPC errors), the same flags everywhere;
- `control`: the ``/_sandbox/...`` control endpoint (add, change, hard-delete records; fault rates);
- `cli`: the common command line (``--port --seed --size --data --api-key --fail-429 ...``);
- `server`: a generic REST sandbox that serves any manifest from data files
  (``python -m connectors.kit.sandbox SYSTEM``), for systems whose protocol the manifest says whole.
"""
