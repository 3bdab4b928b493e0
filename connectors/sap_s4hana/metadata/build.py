"""Regenerate the trimmed EDMX files from SAP's public metadata.

``python -m connectors.sap_s4hana.metadata.build [REFERENCE_SAP_DIR]``; the directory defaults to
``$MILLWRIGHT_REFERENCE_DIR/sap``. The six ``.edmx`` files are trimmed to the implemented sets. No
public EDMX exists for API_MAINTENANCEPLAN, so its document is derived from SAP's OpenAPI description
(``OP_API_MAINTENANCEPLAN_0001.openapi.json``): ``/Date(..)/`` examples become Edm.DateTime, or
Edm.DateTimeOffset when the property is described as a "Time Stamp" (as LastChangeDateTime is in every
SAP EDMX we have), ``PT..`` examples Edm.Time, ``format: decimal`` Edm.Decimal. The services in
`released.RELEASED` (no reference EDMX) are written from their entity types there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from connectors.sap_s4hana.metadata import SERVICES, metadata_path
from connectors.sap_s4hana.metadata.released import RELEASED, released_edmx

EDM = "http://schemas.microsoft.com/ado/2008/09/edm"
EDMX = "http://schemas.microsoft.com/ado/2007/06/edmx"


# navigation properties kept (with their association and the target set): service -> type ->
# names; what custom fields can reach through $expand
NAVIGATION: dict[str, dict[str, tuple[str, ...]]] = {
    "API_MAINTENANCEORDER": {"MaintenanceOrderType": ("to_MaintenanceOrderOperation",)},
}
# a tenant's key-user extension fields (Custom Fields app: YY1_<name>_<business context>), added
# to the served metadata as SAP adds them: service -> type -> (name, max length, label)
EXTENSIONS: dict[str, dict[str, tuple[tuple[str, int, str], ...]]] = {
    "API_MAINTENANCEORDER": {"MaintenanceOrderType": (("YY1_MaintCrew_ORD", 20, "Maint. Crew"),)},
}


def trim_edmx(xml: bytes, sets: tuple[str, ...], service: str = "") -> bytes:
    """Keep only ``sets`` and their entity types; drop annotations, and navigation properties
    and associations except `NAVIGATION`'s; add `EXTENSIONS`' properties."""
    root = etree.fromstring(xml)
    for ref in [c for c in root if etree.QName(c).localname == "Reference"]:
        root.remove(ref)
    schema = root.find(f".//{{{EDM}}}Schema")
    container = schema.find(f"{{{EDM}}}EntityContainer")
    navs = NAVIGATION.get(service, {})
    keep_types = set()
    keep_assocs = set()
    for child in list(schema):
        if child.tag == f"{{{EDM}}}EntityType":
            for nav in child.findall(f"{{{EDM}}}NavigationProperty"):
                if nav.get("Name") in navs.get(child.get("Name"), ()):
                    keep_assocs.add(nav.get("Relationship").rsplit(".", 1)[1])
    for child in list(container):
        if child.tag == f"{{{EDM}}}EntitySet" and child.get("Name") in sets:
            keep_types.add(child.get("EntityType").rsplit(".", 1)[1])
        elif not (child.tag == f"{{{EDM}}}AssociationSet"
                  and child.get("Association").rsplit(".", 1)[1] in keep_assocs):  # fmt: skip
            container.remove(child)
    for child in list(schema):
        if child is container:
            continue
        name = child.get("Name")
        if child.tag == f"{{{EDM}}}EntityType" and name in keep_types:
            for nav in child.findall(f"{{{EDM}}}NavigationProperty"):
                if nav.get("Name") not in navs.get(name, ()):
                    child.remove(nav)
            for prop, length, label in EXTENSIONS.get(service, {}).get(name, ()):
                last = child.findall(f"{{{EDM}}}Property")[-1]
                ext = etree.Element(f"{{{EDM}}}Property", Name=prop, Type="Edm.String",
                                    MaxLength=str(length))  # fmt: skip
                ext.set("{http://www.sap.com/Protocols/SAPData}label", label)
                last.addnext(ext)
        elif not (child.tag == f"{{{EDM}}}Association" and name in keep_assocs):
            schema.remove(child)
    etree.indent(root, space=" ")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _edm_type(name: str, spec: dict) -> str:
    example = str(spec.get("example", ""))
    text = f"{spec.get('title', '')} {spec.get('description', '')}".lower()
    nullable = "" if spec.get("nullable") else ' Nullable="false"'
    if spec.get("type") == "integer":
        return f'Type="Edm.{"Int64" if spec.get("format") == "int64" else "Int32"}"{nullable}'
    if spec.get("type") == "boolean":
        return f'Type="Edm.Boolean"{nullable}'
    if spec.get("format") == "decimal":
        scale = len(str(spec.get("multipleOf", "1")).partition(".")[2].rstrip("0"))
        digits = len(str(spec.get("maximum", "9")).replace(".", "").lstrip("-"))
        return f'Type="Edm.Decimal"{nullable} Precision="{max(digits, 1)}" Scale="{scale}"'
    if example.startswith("/Date("):
        kind = "DateTimeOffset" if "time stamp" in text else "DateTime"
        return f'Type="Edm.{kind}"{nullable} Precision="0"'
    if example.startswith("PT"):
        return f'Type="Edm.Time"{nullable} Precision="0"'
    if spec.get("format") == "uuid":
        return f'Type="Edm.Guid"{nullable}'
    length = f' MaxLength="{spec["maxLength"]}"' if "maxLength" in spec else ""
    return f'Type="Edm.String"{nullable}{length}'


# API_MAINTENANCEPLAN's sets built from the OpenAPI description: set -> (entity type, key)
PLAN_SETS = {
    "MaintenancePlan": ("MaintenancePlanType", "MaintenancePlan"),
    "MaintenanceItem": ("MaintenanceItemType", "MaintenanceItem"),
}


def plan_edmx(openapi: dict, sets: tuple[str, ...] = ("MaintenancePlan",)) -> bytes:
    """EDMX for API_MAINTENANCEPLAN's ``sets`` (`PLAN_SETS`), derived from SAP's OpenAPI."""
    ns = "cds_api_maintenanceplan"
    types, entity_sets = [], []
    for set_name in sets:
        type_name, key = PLAN_SETS[set_name]
        schema = openapi["components"]["schemas"][f"{ns}.{type_name}"]
        props = []
        for name, spec in schema["properties"].items():
            if spec.get("type") == "object" or "$ref" in spec:
                continue
            label = f" sap:label={quoteattr(spec['title'])}" if spec.get("title") else ""
            if name == key:
                props.append(f'<Property Name="{name}" Type="Edm.String" Nullable="false" '
                             f'MaxLength="{spec["maxLength"]}"{label}/>')  # fmt: skip
            else:
                props.append(f'<Property Name="{name}" {_edm_type(name, spec)}{label}/>')
        body = "\n".join(f"    {p}" for p in props)
        title = quoteattr(schema.get("title") or set_name)
        types.append(f"""   <EntityType Name="{type_name}" sap:label={title} sap:content-version="1">
    <Key><PropertyRef Name="{key}"/></Key>
{body}
   </EntityType>""")
        entity_sets.append(f'    <EntitySet Name="{set_name}" EntityType="{ns}.{type_name}" '
                           'sap:content-version="1"/>')  # fmt: skip
    nl = "\n"
    text = f"""<?xml version='1.0' encoding='utf-8'?>
<edmx:Edmx Version="1.0" xmlns:edmx="{EDMX}" \
xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" \
xmlns:sap="http://www.sap.com/Protocols/SAPData">
 <edmx:DataServices m:DataServiceVersion="2.0">
  <Schema Namespace="{ns}" xml:lang="en" sap:schema-version="1" xmlns="{EDM}">
{nl.join(types)}
   <EntityContainer Name="{ns}_Entities" m:IsDefaultEntityContainer="true" \
sap:supported-formats="atom json xlsx">
{nl.join(entity_sets)}
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>
"""
    return text.encode()


def reference_dir() -> Path:
    default = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference"
    return Path(os.environ.get("MILLWRIGHT_REFERENCE_DIR", default)) / "sap"


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else reference_dir()
    for service, sets in SERVICES.items():
        if service in RELEASED:
            out = released_edmx(service)
        elif service == "API_MAINTENANCEPLAN":
            spec = json.loads((src / "OP_API_MAINTENANCEPLAN_0001.openapi.json").read_text())
            out = plan_edmx(spec, sets)
        else:
            out = trim_edmx((src / f"{service}.edmx").read_bytes(), sets, service)
        metadata_path(service).write_bytes(out)
        print(f"wrote {metadata_path(service).name} ({len(out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
