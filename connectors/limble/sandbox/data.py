"""Sandbox records for Limble's API v2, shaped as its OpenAPI's schemas and examples
(../reference/limble/openapi.yaml: Task, Asset, Location, Part, PurchaseOrder, POItem, Vendor,
User, teams, statuses, regions, priorities). Times are Unix seconds, many shared (ties).

`generate(seed, size)` -> ``{collection: [records]}`` (collections are the API paths under
``/v2``); `save` writes them as ``sandbox_data/<collection>.json`` files, `load` reads what the
sandbox's ``--data`` names.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE = 1_764_547_200  # 2025-12-01T00:00:00Z
DAY = 86_400
ID_FIELD = {
    "/locations": "locationID", "/assets": "assetID", "/tasks": "taskID", "/parts": "partID",
    "/po": "poID", "/po/items": "poItemID", "/vendors": "vendorID", "/users": "userID",
    "/teams": "teamID", "/statuses": "statusID", "/regions": "regionID",
    "/priorities": "priorityID",
    "/assets/fields/suggested": "fieldID", "/assets/fields": "valueID",
    "/parts/fields/suggested": "fieldID", "/parts/fields": "valueID",
    "/vendors/fields/suggested": "fieldID", "/vendors/fields": "valueID",
    "/assets/fields/history": "valueID", "/tasks/parts": "relationID", "/assets/parts": "relationID",
    "/uom": "unitCode", "/gl": "glID",
    "/work-requests/work-request-submissions": "workRequestSubmissionId",
}  # fmt: skip
# a record's custom field values: collection -> (its record collection, id field, name field)
FIELD_VALUES = {
    "/assets/fields": ("/assets", "assetID", "field"),
    "/parts/fields": ("/parts", "partID", "fieldName"),
    "/vendors/fields": ("/vendors", "vendorID", "fieldName"),
}
# the customer's fields (the suggested fields), per record collection: (name, type, values)
SUGGESTED = {
    "/assets": [("Serial Number", "Text", None), ("Criticality", "Dropdown", ["A", "B", "C"]),
                ("Install Date", "Date", None), ("Manual", "Documents", None)],
    "/parts": [("Supplier Part No.", "Text", None), ("Shelf Life (days)", "Number", None)],
    "/vendors": [("Tax ID", "Text", None)],
}  # fmt: skip
CHANGE_TIME = {c: "lastEdited" for c in ("/assets", "/tasks", "/parts", "/po", "/po/items",
                                         "/vendors", "/tasks/parts", "/assets/parts")}  # fmt: skip
WORDS = ["Pump", "Boiler", "Chiller", "Conveyor", "Compressor", "Forklift", "Press", "HVAC Unit"]


def generate(seed: int = 1, size: int = 1000) -> dict[str, list[dict[str, Any]]]:
    """``size`` tasks (templates among them); the other collections scale with it."""
    rng = random.Random(seed)

    def when(days: float) -> int:
        return BASE - int(days * DAY) // 60 * 60  # whole minutes: many records tie

    regions = [{"regionID": 1, "regionName": "North America", "parentRegionID": 0}]
    locations = [{
        "locationID": 70 + n, "name": f"{['NY', 'TX', 'OH', 'CA'][n]} - Facility {n + 1}",
        "regionID": 1 if n < 3 else 0, "timezone": "America/Denver", "weeklyOperationHours": 40,
        "address": f"{10 + n} Main St" if n % 2 == 0 else None, "address2": None, "phone": None,
        "metaField1": None, "metaField2": None, "metaField3": None, "geoLocation": None,
        "workRequestPortal": f"https://app.limblecmms.com/loc-problem/sbx/{70 + n}",
        "currencyCode": "USD",
    } for n in range(4)]  # fmt: skip
    loc_ids = [loc["locationID"] for loc in locations]
    teams = [{"teamID": 430 + n, "name": name, "locationID": rng.choice(loc_ids),
              "automaticallyCreated": 0}
             for n, name in enumerate(["Senior Maintenance", "Junior Maintenance", "Electrical"])]  # fmt: skip
    statuses = [{"statusID": i + 1, "name": n, "description": ""}
                for i, n in enumerate(["Open", "In Progress", "On Hold", "Complete"])]  # fmt: skip
    priorities = [{"priorityID": 8 + i, "name": n, "priorityLevel": i + 1, "color": "#429b1f",
                   "isDefault": i == 1} for i, n in enumerate(["Low", "Medium", "High", "Urgent"])]  # fmt: skip
    users = []
    for n in range(20):
        home = rng.choice(loc_ids)
        team = rng.choice(teams)
        users.append({
            "userID": 340 + n, "username": f"tech{n + 1}", "email": f"tech{n + 1}@example.com",
            "phone": f"80155{n:05d}", "firstName": f"Tech{n + 1}", "lastName": "Smith",
            "wage": rng.randint(15, 45), "active": rng.choice(["true", "true", "false"]),
            "emailNotificationActive": "false", "pushNotificationActive": "false",
            "workdayHours": 8, "dateAdded": when(rng.uniform(300, 900)),
            "teams": [{"teamID": team["teamID"], "locationID": home, "name": team["name"]}],
            "roles": [{"roleID": 321, "locationID": home, "name": rng.choice(["Manager", "Technician"])}],
        })  # fmt: skip
    vendors = [{
        "meta": {"fields": f"/v2/vendors/fields/?vendors={n + 1}"}, "vendorID": n + 1,
        "name": f"{rng.choice(['Acme', 'Summit', 'Pioneer'])} Supply {n + 1}",
        "email": f"orders{n + 1}@vendor.example", "phone": "801-123-1234",
        "contact": f"Contact {n + 1}", "address": f"{n + 1} Supply Rd",
        "locationID": rng.choice(loc_ids), "startedOn": when(rng.uniform(400, 900)),
        "lastEdited": when(rng.uniform(0, 200)), "image": [],
    } for n in range(12)]  # fmt: skip
    assets: list[dict[str, Any]] = []
    for n in range(max(20, size // 10)):
        aid = 10_700 + n
        loc = rng.choice(loc_ids)
        assets.append({
            "assetID": aid, "name": f"{rng.choice(WORDS)} {n + 1}",
            "startedOn": when(rng.uniform(200, 1500)), "lastEdited": when(rng.uniform(0, 120)),
            "parentAssetID": assets[-1]["assetID"] if assets and n % 6 == 0 else 0,
            "locationID": loc, "hoursPerWeek": rng.choice([40, 80, 168, -1]),
            "meta": {"fields": f"/v2/assets/fields/?assets={aid}", "tasks": f"/v2/tasks/?assets={aid}"},
            "workRequestPortal": f"https://app.limblecmms.com/#!/problem/sbx/{loc}/{aid}",
            "image": [],
        })  # fmt: skip
    parts = []
    for n in range(max(20, size // 20)):
        stock = rng.randint(-2, 60)
        parts.append({
            "partID": 150 + n, "number": f"{rng.randint(10, 40)}x{rng.randint(10, 40)}x1-{n}",
            "name": rng.choice(["Filter", "Belt", "Bearing", "Gasket", "Fuse"]),
            "generalStock": stock, "unitCode": rng.choice(["each", "box", None]),
            "generalPrice": round(rng.uniform(1, 250), 2), "category": "Spare Parts",
            "categoryID": 7, "locationID": rng.choice(loc_ids),
            "location": f"Bin {rng.randint(1, 99):03d}", "minQtyStatus": int(stock < 5),
            "minQtyThreshold": rng.choice([-1, 5, 10]), "maxQtyThreshold": rng.choice([-1, 40]),
            "staleThreshold": -1, "staleStatus": 0, "lastEdited": when(rng.uniform(0, 120)),
            "userID": 0, "teamID": teams[0]["teamID"], "stockOnHand": stock + rng.randint(0, 5),
            "pos": [], "image": [],
        })  # fmt: skip
    tasks = []
    for n in range(size):
        tid = 16 + n
        template = n % 25 == 0
        ttype = 1 if template else rng.choice([1, 2, 2, 4, 6])
        done = not template and rng.random() < 0.4
        created = when(rng.uniform(10, 400))
        assigned_team = rng.random() < 0.3
        tasks.append({
            "meta": {"invoices": f"/v2/tasks/invoices/?tasks={tid}", "labor": f"/v2/tasks/labor/?tasks={tid}",
                     "partsUsage": f"/v2/parts/usage/?tasks={tid}",
                     "instructions": f"/v2/tasks/{tid}/instructions", "status": "/v2/statuses/?statuses=2"},
            "taskID": tid, "poIDs": [],
            "name": f"{rng.choice(['Inspect', 'Repair', 'Lubricate', 'Replace'])} {rng.choice(WORDS).lower()}",
            "userID": 0 if assigned_team else rng.choice(users)["userID"],
            "teamID": rng.choice(teams)["teamID"] if assigned_team else 0,
            "locationID": rng.choice(loc_ids), "template": template, "createdDate": created,
            "scheduledStart": 0, "scheduledEnd": 0, "due": created + 7 * DAY,
            "description": rng.choice(["", "Check for leaks", "Follow the SOP"]),
            "dateCompleted": created + 2 * DAY if done else 0,
            "lastEdited": when(rng.uniform(0, 4) if n % 3 else rng.uniform(0, 120)),
            "lastEditedByUser": 0, "completedByUser": rng.choice(users)["userID"] if done else 0,
            "assetID": rng.choice(assets)["assetID"] if rng.random() < 0.8 else 0,
            "completedUserWage": 15 if done else 0, "priority": 0,
            "priorityID": rng.choice(priorities)["priorityID"], "downtime": 0,
            "completionNotes": "All good" if done else None,
            "requestorName": rng.choice([None, "Dana Lee", "Sam Ortiz"]), "requestorEmail": None,
            "requestorPhone": None, "requestTitle": None, "requestField1": None,
            "requestField2": None, "requestField3": None, "requestDropdown1": None,
            "requestDropdown2": None, "requestDropdown3": None, "requestorDescription": None,
            "meta1": None, "meta2": None, "meta3": None,
            "statusID": statuses[3]["statusID"] if done else rng.choice(statuses[:3])["statusID"],
            "type": ttype, "status": int(done),
        })  # fmt: skip
    pos, items = [], []
    labels = {0: ("setup", "Setup"), 97: ("ready_to_receive", "Ready to Receive"),
              98: ("partially_received", "Partially Received"),
              99: ("fully_received", "Fully Received"), 100: ("closed", "Closed")}  # fmt: skip
    for n in range(max(5, size // 20)):
        po_id, state = 1 + n, rng.choice(list(labels))
        vendor = rng.choice(vendors)
        pos.append({
            "poID": po_id, "taskID": 0, "budgetID": 1, "poNumber": 1 + n,
            "vendorID": vendor["vendorID"], "locationID": rng.choice(loc_ids),
            "userIDStarted": users[0]["userID"], "userID": rng.choice(users)["userID"],
            "teamID": 0, "requestedByUserID": rng.choice([0, users[1]["userID"]]),
            "date": when(rng.uniform(20, 300)), "expectedDate": None, "notesToVendor": "",
            "billTo": None, "shipTo": None, "status": state,
            **{f"customField{i}": None for i in range(1, 7)},
            "lastEdited": when(rng.uniform(0, 60)), "poPrefix": rng.choice([None, "PO-"]),
            "meta": {"items": f"/v2/po/items?pos={po_id}", "state": f"/v2/po/{po_id}/state"},
            "stateDetails": {"current": {"number": state, "name": labels[state][0],
                                         "label": labels[state][1], "canModify": state < 97},
                             "transitions": {"available": []}},
            "state": state,
        })  # fmt: skip
        for _ in range(rng.randint(1, 3)):
            part = rng.choice(parts)
            qty = rng.randint(1, 10)
            items.append({
                "poID": po_id, "poItemID": 1 + len(items), "itemType": 1, "name": part["name"],
                "description": None, "glID": 0, "partID": part["partID"], "taskID": 0,
                "poNumber": 1 + n, "qty": qty, "rate": rng.randint(5, 300), "tax": 0,
                "discount": 0, "shipping": 0, "qtyReceived": rng.randint(0, qty),
                "orderUnitAbbreviation": rng.choice([None, "ea"]),
                "lastEdited": pos[-1]["lastEdited"], "meta": {"po": f"/v2/po?pos={po_id}"},
            })  # fmt: skip
    out = {
        **custom_fields(rng, {"/assets": assets, "/parts": parts, "/vendors": vendors}),
        "/regions": regions, "/locations": locations, "/teams": teams, "/statuses": statuses,
        "/priorities": priorities, "/users": users, "/vendors": vendors, "/assets": assets,
        "/parts": parts, "/tasks": tasks, "/po": pos, "/po/items": items,
    }  # fmt: skip
    return more(random.Random(seed * 7919 + 1), out)


UNITS = [  # GET /v2/uom: Limble's unit codes (snake case) and a customer's own (isCustom)
    ("each", "ea", "Each", False, "count"), ("box", "bx", "Box", True, "count"),
    ("gallon_us", "gal", "Gallon", False, "volume"), ("milliliter", "mL", "Milliliter", False, "volume"),
    ("meter", "m", "Meter", False, "length"), ("inch", "in", "Inch", False, "length"),
    ("foot", "ft", "Foot", False, "length"), ("pound", "lb", "Pound", False, "mass"),
    ("kilogram", "kg", "Kilogram", False, "mass"), ("hour", "hr", "Hour", False, "time"),
    ("fluid_ounce_us", "fl oz", "Fluid Ounce", False, "volume"), ("roll", "rl", "Roll", True, "count"),
]  # fmt: skip


def _wall(secs: int) -> str:
    """A work request's time as Limble writes it: ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%d %H:%M:%S")


def more(rng: random.Random, d: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict]]:
    """What issue 15's reads add, from their own random stream (the records above stay as they
    were): parts on tasks and on assets, units, GLs, work request submissions, downtime on some
    completed tasks, a ``Run Hours`` asset field (Number: a meter) with its value history, and
    the files of the ``Manual`` (Documents) asset field."""
    tasks, parts, assets = d["/tasks"], d["/parts"], d["/assets"]
    loc_ids = [loc["locationID"] for loc in d["/locations"]]
    task_parts, asset_parts = [], []
    for t in tasks:
        if rng.random() < 0.45:
            for part in rng.sample(parts, rng.randint(1, 3)):
                task_parts.append({
                    "relationID": 1 + len(task_parts), "partID": part["partID"], "taskID": t["taskID"],
                    "quantity": rng.randint(1, 6), "lastEdited": t["lastEdited"],
                    "usedPrice": round(part["generalPrice"]) if t["status"] else 0,
                    "partName": part["name"], "poItemID": 0,
                })  # fmt: skip
        if t["status"] == 1 and t["assetID"] and rng.random() < 0.5:
            t["downtime"] = rng.choice([900, 3600, 7200, 14_400, 28_800])
    for a in assets:
        if rng.random() < 0.6:
            for part in rng.sample(parts, rng.randint(1, 4)):
                created = a["startedOn"] + rng.randint(1, 90) * DAY
                asset_parts.append({
                    "relationID": 500 + len(asset_parts), "partID": part["partID"],
                    "assetID": a["assetID"], "qty": rng.randint(1, 8), "createdAt": created,
                    "lastEdited": max(created, a["lastEdited"] - rng.randint(0, 30) * DAY),
                    "associationType": "manual",
                })  # fmt: skip
    uom = [{"unitCode": c, "defaultAbbreviation": ab, "abbreviation": ab, "name": n,
            "isCustom": custom, "category": cat} for c, ab, n, custom, cat in UNITS]  # fmt: skip
    gl = [{"glID": 1 + n, "abbr": abbr, "name": name, "locationID": rng.choice(loc_ids),
           "description": rng.choice(["", f"{name} spend"]),
           "assetID": rng.choice([0, 0, assets[n]["assetID"]])}
          for n, (abbr, name) in enumerate([("OFF", "Office"), ("MRO", "Maintenance Repairs"),
                                            ("UTL", "Utilities"), ("CAP", "Capital Projects"),
                                            ("SFT", "Safety"), ("FLT", "Fleet")])]  # fmt: skip
    requests = []
    done = [t for t in tasks if t["type"] == 6 and not t["template"]]
    for n in range(30):
        created = BASE - rng.randint(1, 200) * DAY + rng.randint(0, DAY)
        status = rng.choice(["Pending", "Pending", "Approved", "Rejected"])
        task = done[n % len(done)] if status == "Approved" and done else None
        reviewed = created + rng.randint(600, 3 * DAY) if status != "Pending" else None
        asset = rng.choice(assets) if rng.random() < 0.7 else None
        who = rng.choice(["Dana Lee", "Sam Ortiz", "Kim Park", "Alex Chen"])
        requests.append({
            "workRequestSubmissionId": 1 + n, "status": status,
            "createdByUserId": rng.choice(d["/users"])["userID"], "createdAt": _wall(created),
            "updatedAt": _wall(reviewed or created), "deletedAt": None,
            "reviewedByUserId": d["/users"][0]["userID"] if reviewed else None,
            "reviewedAt": _wall(reviewed) if reviewed else None,
            "reviewedReason": "Duplicate request" if status == "Rejected" else None,
            "additionalNotes": "Already reported" if status == "Rejected" else None,
            "locationId": asset["locationID"] if asset else rng.choice(loc_ids),
            "assetId": asset["assetID"] if asset else None,
            "priorityId": rng.choice(d["/priorities"])["priorityID"],
            "dueDateUnit": rng.choice(["days", "hours"]),
            "requestInformation": {"requesterName": who, "requesterEmail": f"{who.split()[0].lower()}@example.com",
                                   "requesterPhone": None, "timeUnix": created},
            "customerID": 4242,
            "requestTitle": f"{rng.choice(['Leak at', 'Noise from', 'Broken'])} {rng.choice(WORDS).lower()}",
            "assignedToProfileId": rng.choice([None, 77]),
            "requestDescription": rng.choice([None, "Noticed during the morning round"]),
            "checklistID": task["taskID"] if task else None, "requesterName": who,
        })  # fmt: skip
    # a meter: Run Hours (Number) on most assets, its value history
    fields, suggested = d["/assets/fields"], d["/assets/fields/suggested"]
    field_id = max(f["fieldID"] for f in suggested) + 1
    suggested.append({"fieldID": field_id, "fieldType": "Number", "fieldName": "Run Hours",
                      "locationID": 0})  # fmt: skip
    value_id = max(v["valueID"] for v in d["/assets/fields"] + d["/parts/fields"]
                   + d["/vendors/fields"]) + 1  # fmt: skip
    history, hist_id = [], 20_000
    for a in assets:
        if rng.random() < 0.2:
            continue
        hours, at = rng.randint(100, 5000), a["startedOn"]
        for _ in range(rng.randint(1, 5)):
            hours += rng.randint(20, 400)
            at += rng.randint(5, 60) * DAY
            hist_id += 1
            history.append({"fieldID": field_id, "field": "Run Hours", "value": str(hours),
                            "valueID": hist_id, "dateUpdated": str(at),
                            "_assetID": a["assetID"]})  # fmt: skip
        fields.append({
            "fieldID": field_id, "assetID": a["assetID"], "locationID": a["locationID"],
            "field": "Run Hours", "value": str(hours), "valueID": value_id, "fieldType": "Number",
            "lastEdited": at, "locked": False, "files": [],
        })  # fmt: skip
        value_id += 1
    for v in fields:  # the Manual field's documents (Limble signs the links for 15 minutes)
        if v["fieldType"] == "Documents" and rng.random() < 0.7:
            loc = v["locationID"]
            v["files"] = [{
                "fileName": name,
                "link": f"https://content.limblecmms.com/upload-36/assets/{loc}/{v['assetID']}/"
                        f"{v['valueID']}/{name}?Expires={BASE + 900}&Key-Pair-Id=APKASANDBOX",
            } for name in rng.sample(["manual.pdf", "wiring.pdf", "nameplate.jpg", "parts-list.xlsx"],
                                     rng.randint(1, 2))]  # fmt: skip
    return {**d, "/tasks/parts": task_parts, "/assets/parts": asset_parts, "/uom": uom, "/gl": gl,
            "/work-requests/work-request-submissions": requests,
            "/assets/fields/history": history}  # fmt: skip


def custom_fields(rng: random.Random, records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The suggested (customer-defined) fields of assets, parts and vendors, and their values
    on most records (shaped as ``GET /v2/assets/fields`` answers: ``field`` for assets,
    ``fieldName`` for parts and vendors; a few values are null)."""
    out: dict[str, list[dict]] = {}
    field_id, value_id = 16, 45_000
    for values_coll, (coll, id_field, name_key) in FIELD_VALUES.items():
        suggested, values = [], []
        for name, ftype, choices in SUGGESTED[coll]:
            suggested.append({"fieldID": field_id, "fieldType": ftype, "fieldName": name,
                              "locationID": 0})  # fmt: skip
            for rec in records[coll]:
                if rng.random() < 0.15:
                    continue  # the field is not on this record
                value_id += 1
                if ftype == "Documents":
                    value = None
                elif choices:
                    value = rng.choice(choices)
                elif ftype == "Number":
                    value = str(rng.randint(30, 720))
                elif ftype == "Date":
                    value = str(rec.get("startedOn") or BASE)
                else:
                    value = None if rng.random() < 0.1 else f"{name[:3].upper()}-{rec[id_field]}"
                values.append({
                    "fieldID": field_id, id_field: rec[id_field], "locationID": rec.get("locationID"),
                    name_key: name, "value": value, "valueID": value_id, "fieldType": ftype,
                    "lastEdited": rec.get("lastEdited") or BASE, "locked": False, "files": [],
                })  # fmt: skip
            field_id += 1
        out[f"{coll}/fields/suggested"], out[values_coll] = suggested, values
    return out


FILES = {c.strip("/").replace("/", "-"): c for c in ID_FIELD}  # sandbox_data/<name>.json


def save(data: dict[str, list[dict[str, Any]]], directory: str | Path) -> None:
    """One ``<collection>.json`` per collection (``po-items.json`` for ``/po/items``)."""
    for name, coll in FILES.items():
        (Path(directory) / f"{name}.json").write_text(
            json.dumps(data.get(coll, []), indent=1) + "\n"
        )


def load(args: list[str] | str, base: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict]]:
    """``base`` with collections replaced from ``--data`` values: ``/collection=FILE`` (a JSON
    list, what the kit's command line makes of ``ENTITY=FILE`` and directories) or a FILE holding
    ``{"/collection": [records]}``."""
    out = dict(base)
    for arg in [args] if isinstance(args, str) else args:
        coll, sep, file = arg.partition("=")
        try:
            data = json.loads(Path(file if sep else arg).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"--data {arg}: cannot read it ({exc})") from None
        parts = {coll: data} if sep else data
        if not isinstance(parts, dict) or any(not isinstance(v, list) for v in parts.values()):
            raise ValueError(f"--data {arg}: expected a list of records or {{collection: [...]}}")
        unknown = set(parts) - set(ID_FIELD)
        if unknown:
            raise ValueError(f"--data {arg}: unknown collections {sorted(unknown)}; known: "
                             f"{sorted(ID_FIELD)}")  # fmt: skip
        out.update(parts)
    return out
