"""IBM Maximo Manage connector (JSON API over object structures) and its sandbox."""

from connectors.maximo.client import MaximoConnector

CONNECTOR = MaximoConnector

__all__ = ["CONNECTOR", "MaximoConnector"]
