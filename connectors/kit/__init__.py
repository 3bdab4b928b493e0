"""The declarative connector kit: a REST-style system is a manifest, a mapping table and sandbox data.

- `connectors.kit.manifest`: the manifest schema (pydantic), `load_manifest`, `requested_fields`;
- `connectors.kit.engine`: requests, auth, paginators (and the `Paginator` plug-in base), windows;
- `connectors.kit.connector`: `ManifestConnector` (the hooks for unusual protocols), `entity_specs`,
  `manifest_connector(package)`;
- `connectors.kit.sandbox`: the generic sandbox (same flags for every system, fault injection,
  control endpoint).

How to add a system, step by step, and the manifest reference: docs/CONNECTORS.md.
"""

from connectors.kit.connector import ManifestConnector, entity_specs, manifest_connector
from connectors.kit.engine import Paginator, PagingError, Request, register_paginator
from connectors.kit.manifest import (
    Manifest,
    ManifestError,
    load_manifest,
    parse_manifest,
    requested_fields,
)

__all__ = [
    "Manifest", "ManifestConnector", "ManifestError", "Paginator", "PagingError", "Request",
    "entity_specs", "load_manifest", "manifest_connector", "parse_manifest", "register_paginator",
    "requested_fields",
]  # fmt: skip
