"""SAP S/4HANA (OData v2) connector; `sandbox` is its protocol-faithful stand-in server.

Entities: work-orders (API_MAINTENANCEORDER;v=0002), assets (API_EQUIPMENT, current time segment),
locations (API_FUNCTIONALLOCATION), pm (API_MAINTENANCEPLAN), materials and products
(API_PRODUCT_SRV), purchase-orders with line items (API_PURCHASEORDER_PROCESS_SRV), vendors
(API_BUSINESS_PARTNER suppliers). No sites (no public API in the reference offers a plant set) and
no production orders (none of the reference APIs has them).
"""

from connectors.sap_s4hana.client import SapS4HanaConnector

CONNECTOR = SapS4HanaConnector

__all__ = ["CONNECTOR", "SapS4HanaConnector"]
