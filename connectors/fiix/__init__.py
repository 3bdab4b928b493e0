"""Fiix CMMS: manifest.yaml + mapping.py, with its RPC protocol in protocol.py and client.py."""

from connectors.fiix.client import FiixBase
from connectors.kit import manifest_connector

# named as the class calls itself, so that map worker processes can unpickle it
FiixConnector = CONNECTOR = manifest_connector(__name__, FiixBase)

__all__ = ["CONNECTOR", "FiixConnector"]
