"""Tryton (open-source ERP) over JSON-RPC: parts, stock, purchasing, production."""

from connectors.tryton.connector import TrytonConnector

CONNECTOR = TrytonConnector

__all__ = ["CONNECTOR", "TrytonConnector"]
