"""MaintainX (REST v1) connector: see client.py for the protocol, mapping.py for the mapping and
sandbox/ for the protocol-faithful sandbox."""

from connectors.maintainx.client import MaintainXConnector

CONNECTOR = MaintainXConnector

__all__ = ["CONNECTOR", "MaintainXConnector"]
