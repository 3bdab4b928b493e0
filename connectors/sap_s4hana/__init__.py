"""SAP S/4HANA (OData v2, and OData V4 where SAP offers only V4) connector; `sandbox` is its
protocol-faithful stand-in server.

Entities (README.md has the table): work orders and their components, assets, locations, pm and its
task list components, materials (+ BOM children) and products, purchase and return orders, vendors,
customers, companies, labors (employees), service requests and asset downtime (maintenance
notifications), accounts, stocks, organizations, sites, storerooms, teams, inventories, meters and
meter readings (OData V4), users (business users, OData V4), documents (equipment attachments),
assets' materials (construction type BOM). Not yet: units of measure (no released read API found;
`mapping.NOT_YET`).
"""

from connectors.sap_s4hana.client import SapS4HanaConnector

CONNECTOR = SapS4HanaConnector

__all__ = ["CONNECTOR", "SapS4HanaConnector"]
