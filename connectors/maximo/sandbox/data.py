"""Lazy, deterministic Maximo records: record ``i`` of an object structure is a pure function of
(seed, object structure, i), so a million work orders cost nothing until served.

Dates are epoch seconds inside the sandbox and rendered per request (offset or naive). Records of
object structures with a change time come in groups of ``GROUP`` that share one ``changedate`` (1 s
resolution), and within a group the key attributes increase with ``i``: the base order is
(changedate, key...) for incremental structures and (key...) for snapshot structures. References
(asset of a work order, storeroom of an inventory row...) always point at records that exist, in the
same site, so joins can be tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GROUP = 6  # records sharing one changedate; 2 per site
SITES = ("BEDFORD", "NASHUA", "TEXAS")
NS = len(SITES)
ORG = "EAGLENA"
ITEMSET = "SET1"
STORES = ("CENTRAL", "SPARES")
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
SPAN = 366 * 86400  # base records spread over 2024 (both DST changes of America/New_York)
_MASK = (1 << 64) - 1

DATE_ATTRS = frozenset(
    [
        "changedate",
        "statusdate",
        "reportdate",
        "schedstart",
        "schedfinish",
        "targcompdate",
        "targstartdate",
        "actstart",
        "actfinish",
        "installdate",
        "orderdate",
        "requireddate",
        "vendeliverydate",
        "reqdeliverydate",
        "nextdate",
        "lastcompdate",
        "readingdate",
        "lastreadingdate",
        "enterdate",
        "affecteddate",
        "targetfinish",
        "transdate",
        "actualdate",
        "createdate",
    ]
)
DOMAINS: dict[str, dict[str, tuple[str, str]]] = {
    # domain -> value -> (internal value, description)
    "WOSTATUS": {
        "WAPPR": ("WAPPR", "Waiting on Approval"), "APPR": ("APPR", "Approved"),
        "INPRG": ("INPRG", "In Progress"), "WMATL": ("WMATL", "Waiting on Material"),
        "COMP": ("COMP", "Completed"), "CLOSE": ("CLOSE", "Closed"), "CAN": ("CAN", "Canceled"),
    },
    "POSTATUS": {
        "WAPPR": ("WAPPR", "Waiting on Approval"), "APPR": ("APPR", "Approved"),
        "INPRG": ("INPRG", "In Progress"), "HOLD": ("HOLD", "On Hold"),
        "CLOSE": ("CLOSE", "Closed"), "CAN": ("CAN", "Canceled"),
    },
    "LOCASSETSTATUS": {
        "OPERATING": ("OPERATING", "Operating"), "NOT READY": ("NOT READY", "Not Ready"),
        "DECOMMISSIONED": ("DECOMMISSIONED", "Decommissioned"),
    },
    "PMSTATUS": {"ACTIVE": ("ACTIVE", "Active"), "INACTIVE": ("INACTIVE", "Inactive")},
    "ITEMSTATUS": {
        "ACTIVE": ("ACTIVE", "Active"), "PENDING": ("PENDING", "Pending"),
        "OBSOLETE": ("OBSOLETE", "Obsolete"),
    },
    "PERSONSTATUS": {"ACTIVE": ("ACTIVE", "Active"), "INACTIVE": ("INACTIVE", "Inactive")},
    "SRSTATUS": {
        "NEW": ("NEW", "New"), "QUEUED": ("QUEUED", "Queued"), "INPROG": ("INPROG", "In Progress"),
        "RESOLVED": ("RESOLVED", "Resolved"), "CLOSED": ("CLOSED", "Closed"),
        "CANCELLED": ("CANCELLED", "Cancelled"),
    },
    "LABORSTATUS": {"ACTIVE": ("ACTIVE", "Active"), "INACTIVE": ("INACTIVE", "Inactive")},
    "RECEIPTSTATUS": {
        "COMP": ("COMP", "Complete"), "WINSP": ("WINSP", "Waiting for Inspection"),
        "WASSET": ("WASSET", "Waiting for Asset Serialization"),
    },
    "TEMPLATESTATUS": {
        "DRAFT": ("DRAFT", "Draft"), "ACTIVE": ("ACTIVE", "Active"),
        "INACTIVE": ("INACTIVE", "Inactive"),
    },
}  # fmt: skip
WO_STATUSES = tuple(DOMAINS["WOSTATUS"])
PO_STATUSES = tuple(DOMAINS["POSTATUS"])
SR_STATUSES = tuple(DOMAINS["SRSTATUS"])
WORDS = ("Pump", "Motor", "Conveyor", "Valve", "Boiler", "Chiller", "Compressor", "Fan", "Belt",
         "Bearing", "Filter", "Gearbox", "Hydraulic", "Press", "Boiler feed", "Cooling tower")  # fmt: skip
LOWER_WORDS = tuple(w.lower() for w in WORDS)
GL = tuple(f"6{k:03d}-200-300" for k in range(900))
EQ = tuple(f"EQ-{k:02d}" for k in range(100))
SHIFTS = ("SHIFT-A", "SHIFT-B", "SHIFT-C")
ACTIONS = ("Inspect", "Replace", "Lubricate", "Repair", "Calibrate", "Clean", "Overhaul", "Test")
WORKTYPES = ("CM", "PM", "EM", "CAL", "EV")
FIRST = ("Ann", "Bob", "Carla", "Dev", "Eve", "Farid", "Gus", "Hana", "Ivan", "Jo", "Kim", "Lee")
LAST = ("Wilson", "Smith", "Garcia", "Chen", "Okafor", "Novak", "Ito", "Berg", "Silva", "Khan")
UNITS = (  # MEASUREUNIT: every unit the other structures name (items, meters) and a few more
    ("BOX", "Box", "bx"), ("DEG-F", "Degrees Fahrenheit", "F"), ("EA", "Each", "ea"),
    ("FT", "Foot", "ft"), ("GAL", "Gallon", "gal"), ("HOURS", "Hours", "h"), ("KG", "Kilogram", "kg"),
    ("L", "Liter", "l"), ("M", "Meter", "m"),
)  # fmt: skip
N_TEMPLATES = 8
N_JOBPLANS = 8
DOWNCODES = ("MECH", "ELEC", "PM", "OPS")
RETURN_REASONS = ("Damaged in transit", "Wrong part shipped", "Surplus to requirements")


def mix(seed: int, salt: int, i: int) -> int:
    """SplitMix64 of (seed, salt, i): a cheap deterministic pseudo-random 64-bit value."""
    z = (seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9 + i * 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def grouped_site(i: int) -> int:
    """Site index of record ``i`` in a grouped (incremental) structure."""
    return (i % GROUP) * NS // GROUP


def nth_in_site(t: int, site: int) -> int:
    """Index of the ``t``-th record of ``site`` in a grouped structure (inverse of grouped_site)."""
    per = GROUP // NS
    return GROUP * (t // per) + site * per + t % per


def round_up(n: int, m: int = GROUP) -> int:
    return max(m, -(-n // m) * m)


@dataclass
class ObjectStructure:
    """One served object structure: naming, key, order and a lazy record builder."""

    name: str
    key: tuple[str, ...]
    href_key: tuple[str, ...]  # values in the resource id (`_` + base64), Maximo's order
    time_attr: str | None  # change time for windows; None: snapshot
    count: int
    build: Callable[[int], dict[str, Any]] | None  # base record i (dates as epoch seconds)
    order: tuple[str, ...]  # the base order (ascending)
    stream_orders: frozenset[tuple[str, ...]] = frozenset()  # orders served without sorting
    counter: tuple[str, int] | None = None  # (attr, offset): base index = int(value) - offset
    domains: dict[str, str] = field(default_factory=dict)  # attr -> domain for _description
    children: tuple[str, ...] = ()
    max_page_size: int | None = None

    def __post_init__(self) -> None:
        self.step = max(1, SPAN // max(1, -(-self.count // GROUP)))  # seconds between groups

    def time_of(self, i: int) -> int:
        return T0 + (i // GROUP) * self.step

    def first_at_or_after(self, epoch: float) -> int:
        """The smallest base index whose time is >= epoch (grouped structures)."""
        g = max(0, -(-(int(epoch) - T0) // self.step)) if epoch > T0 else 0
        return min(self.count, g * GROUP)


class World:
    """Every object structure of one sandbox, sized from ``size`` work orders."""

    def __init__(self, seed: int = 1, size: int = 1000) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self.seed, self.size = seed, size
        n = size
        self.n_assets = round_up(max(30, n // 10))
        self.n_locations = round_up(max(12, n // 50))
        self.n_pm = round_up(max(6, n // 50))
        self.n_items = max(10, n // 20)
        self.n_pos = round_up(max(6, n // 20))
        self.n_companies = round_up(max(6, n // 100))
        self.n_persons = max(6, n // 50)
        self.n_groups = max(3, n // 500)
        self.n_meters = self.n_assets * 2
        self.n_readings = round_up(max(12, n // 2))
        self.n_srs = round_up(max(12, n // 10))
        self.n_accounts = len(GL)
        self.n_downtime = round_up(max(12, n // 10))
        self.n_doclinks = round_up(max(12, n // 20))
        self.n_receipts = round_up(max(12, n // 20))
        self.n_wpmaterial = NS * max(1, (n // NS) // 2)
        self.n_spareparts = self.n_assets
        self.n_kits = -(-self.n_items // 10)  # items 0, 10, 20... are kits (ITEM.iskit)
        self.structures: dict[str, ObjectStructure] = {}
        self._define()
        # small lookup tables for the work-order builder (sizes ~ size/10 at most)
        self._persons = [f"P{100000 + k}" for k in range(self.n_persons)]
        self._groups = [f"CREW{k:04d}" for k in range(self.n_groups)]
        self._asset_loc: list[str | None] = [None] * self.n_assets
        self._asset_per_site = self.n_assets // NS
        wo = self.structures["MXAPIWODETAIL"]
        self._wo_t0, self._wo_step = T0, wo.step

    # --- helpers -------------------------------------------------------------------------------
    def pick(self, count: int, site: int, h: int) -> int:
        """A grouped-structure index in ``site`` chosen by ``h``."""
        per_site = count // NS
        return nth_in_site(h % per_site, site)

    def location_name(self, i: int) -> str:
        return STORES[i % 2] if i < GROUP else str(100000 + i)

    def asset_location(self, j: int) -> str:
        site = grouped_site(j)
        return self.location_name(self.pick(self.n_locations, site, mix(self.seed, 2, j)))

    def person(self, h: int) -> str:
        return f"P{100000 + h % self.n_persons}"

    def group_name(self, h: int) -> str:
        return f"CREW{h % self.n_groups:04d}"

    def vendor(self, h: int) -> str:
        """A company of type V (companies 4 and 5 of every six are a manufacturer and a courier)."""
        k = h % self.n_companies
        return f"V{100000 + k - max(0, k % 6 - 3)}"

    def item(self, h: int) -> str:
        return str(500000 + h % self.n_items)

    # --- definitions ---------------------------------------------------------------------------
    def _define(self) -> None:
        s = self.structures
        wo = ("changedate", "siteid", "wonum")
        s["MXAPIWODETAIL"] = ObjectStructure(
            "MXAPIWODETAIL", ("siteid", "wonum"), ("wonum", "siteid"), "changedate", self.size,
            self._wo, wo, _prefixes(wo) | {("changedate", "wonum"), ("changedate", "wonum", "siteid")},
            ("wonum", 1000000), {"status": "WOSTATUS"},
        )  # fmt: skip
        asset = ("changedate", "siteid", "assetnum")
        s["MXAPIASSET"] = ObjectStructure(
            "MXAPIASSET", ("siteid", "assetnum"), ("assetnum", "siteid"), "changedate",
            self.n_assets, self._asset, asset,
            _prefixes(asset) | {("changedate", "assetnum"), ("changedate", "assetnum", "siteid")},
            ("assetnum", 100000), {"status": "LOCASSETSTATUS"},
        )  # fmt: skip
        loc = ("changedate", "siteid", "location")
        s["MXAPIOPERLOC"] = ObjectStructure(
            "MXAPIOPERLOC", ("siteid", "location"), ("location", "siteid"), "changedate",
            self.n_locations, self._location, loc, _prefixes(loc), None,
            {"status": "LOCASSETSTATUS"},
        )  # fmt: skip
        s["MXAPISITE"] = ObjectStructure(
            "MXAPISITE", ("siteid",), ("siteid",), None, NS, self._site, ("siteid",),
            _prefixes(("siteid",)),
        )  # fmt: skip
        pm = ("changedate", "siteid", "pmnum")
        s["MXAPIPM"] = ObjectStructure(
            "MXAPIPM", ("siteid", "pmnum"), ("pmnum", "siteid"), "changedate", self.n_pm,
            self._pm, pm, _prefixes(pm) | {("changedate", "pmnum"), ("changedate", "pmnum", "siteid")},
            ("pmnum", 10000), {"status": "PMSTATUS"},
        )  # fmt: skip
        item = ("itemsetid", "itemnum")
        s["MXAPIITEM"] = ObjectStructure(
            "MXAPIITEM", item, ("itemnum", "itemsetid"), None, self.n_items, self._item, item,
            _prefixes(item) | {("itemnum",), ("itemnum", "itemsetid")}, ("itemnum", 500000),
            {"status": "ITEMSTATUS"},
        )  # fmt: skip
        inv = ("siteid", "itemnum", "location")
        s["MXAPIINVENTORY"] = ObjectStructure(
            "MXAPIINVENTORY", inv, ("itemnum", "itemsetid", "siteid", "location"), None,
            NS * self.n_items * 2, self._inventory, inv, _prefixes(inv), None,
            {"status": "ITEMSTATUS"}, ("invbalances",),
        )  # fmt: skip
        po = ("changedate", "siteid", "ponum")
        s["MXAPIPO"] = ObjectStructure(
            "MXAPIPO", ("siteid", "ponum"), ("ponum", "siteid", "revisionnum"), "changedate",
            self.n_pos, self._po, po, _prefixes(po) | {("changedate", "ponum"), ("changedate", "ponum", "siteid")},
            ("ponum", 100000), {"status": "POSTATUS"}, ("poline",),
        )  # fmt: skip
        co = ("changedate", "orgid", "company")
        s["MXAPICOMPANY"] = ObjectStructure(
            "MXAPICOMPANY", ("orgid", "company"), ("company", "orgid"), "changedate",
            self.n_companies, self._company, co,
            _prefixes(co) | {("changedate", "company"), ("changedate", "company", "orgid")},
            ("company", 100000),
        )  # fmt: skip
        s["MXAPIPERSON"] = ObjectStructure(
            "MXAPIPERSON", ("personid",), ("personid",), None, self.n_persons, self._person,
            ("personid",), _prefixes(("personid",)), None, {"status": "PERSONSTATUS"},
        )  # fmt: skip
        s["MXAPIPERSONGROUP"] = ObjectStructure(
            "MXAPIPERSONGROUP", ("persongroup",), ("persongroup",), None, self.n_groups,
            self._persongroup, ("persongroup",), _prefixes(("persongroup",)), None, {},
            ("persongroupteam",),
        )  # fmt: skip
        meter = ("siteid", "assetnum", "metername")
        s["MXAPIASSETMETER"] = ObjectStructure(
            "MXAPIASSETMETER", meter, ("assetnum", "siteid", "metername"), None, self.n_meters,
            self._meter, meter, _prefixes(meter) | {("assetmeterid",)},
        )  # fmt: skip
        rd = ("readingdate", "meterreadingid")
        s["MXAPIMETERREADING"] = ObjectStructure(
            "MXAPIMETERREADING", ("meterreadingid",), ("meterreadingid",), "readingdate",
            self.n_readings, self._reading, rd, _prefixes(rd), ("meterreadingid", 0),
        )  # fmt: skip
        s["MXAPIORGANIZATION"] = ObjectStructure(
            "MXAPIORGANIZATION", ("orgid",), ("orgid",), None, 1, self._organization,
            ("orgid",), _prefixes(("orgid",)),
        )  # fmt: skip
        sr = ("changedate", "ticketid")
        s["MXAPISR"] = ObjectStructure(
            "MXAPISR", ("ticketid",), ("ticketid", "class"), "changedate", self.n_srs, self._sr,
            sr, _prefixes(sr), ("ticketid", 2000), {"status": "SRSTATUS"},
        )  # fmt: skip
        s["MXAPILABOR"] = ObjectStructure(
            "MXAPILABOR", ("orgid", "laborcode"), ("laborcode", "orgid"), None, self.n_persons,
            self._labor, ("orgid", "laborcode"), _prefixes(("orgid", "laborcode")), None,
            {"status": "LABORSTATUS"},
        )  # fmt: skip
        s["MXAPICHARTOFACCOUNTS"] = ObjectStructure(
            "MXAPICHARTOFACCOUNTS", ("orgid", "glaccount"), ("glaccount", "orgid"), None,
            self.n_accounts, self._account, ("orgid", "glaccount"),
            _prefixes(("orgid", "glaccount")),
        )  # fmt: skip
        s["MXAPIMEASUREUNIT"] = ObjectStructure(
            "MXAPIMEASUREUNIT", ("measureunitid",), ("measureunitid",), None, len(UNITS),
            self._unit, ("measureunitid",), _prefixes(("measureunitid",)),
        )  # fmt: skip
        ast = ("changedate", "assetstatusid")
        s["MXAPIASSETSTATUS"] = ObjectStructure(
            "MXAPIASSETSTATUS", ("assetstatusid",), ("assetstatusid",), "changedate",
            self.n_downtime, self._assetstatus, ast, _prefixes(ast), ("assetstatusid", 1),
        )  # fmt: skip
        tmpl = ("orgid", "templateid")
        s["MXAPIASSETTEMPLATE"] = ObjectStructure(
            "MXAPIASSETTEMPLATE", tmpl, ("templateid", "orgid"), None, N_TEMPLATES,
            self._template, tmpl, _prefixes(tmpl), None, {"status": "TEMPLATESTATUS"},
        )  # fmt: skip
        tsp = ("orgid", "templateid", "itemnum")
        s["MXAPITEMPLATESPAREPART"] = ObjectStructure(
            "MXAPITEMPLATESPAREPART", tsp, ("templateid", "orgid", "itemnum"), None,
            N_TEMPLATES * 3, self._template_part, tsp, _prefixes(tsp),
        )  # fmt: skip
        dl = ("changedate", "doclinksid")
        s["MXAPIDOCLINKS"] = ObjectStructure(
            "MXAPIDOCLINKS", ("doclinksid",), ("doclinksid",), "changedate", self.n_doclinks,
            self._doclink, dl, _prefixes(dl), ("doclinksid", 1),
        )  # fmt: skip
        mr = ("transdate", "matrectransid")
        s["MXAPIRECEIPT"] = ObjectStructure(
            "MXAPIRECEIPT", ("matrectransid",), ("matrectransid",), "transdate",
            self.n_receipts, self._receipt, mr, _prefixes(mr), ("matrectransid", 1),
            {"status": "RECEIPTSTATUS"},
        )  # fmt: skip
        wpm = ("siteid", "wonum", "wpitemid")
        s["MXAPIWPMATERIAL"] = ObjectStructure(
            "MXAPIWPMATERIAL", wpm, ("wonum", "siteid", "wpitemid"), None, self.n_wpmaterial,
            self._wpmaterial, wpm, _prefixes(wpm),
        )  # fmt: skip
        jp = ("orgid", "jpnum")
        s["MXAPIJOBPLAN"] = ObjectStructure(
            "MXAPIJOBPLAN", jp, ("jpnum", "orgid"), None, N_JOBPLANS, self._jobplan, jp,
            _prefixes(jp), None, {}, ("jobmaterial",),
        )  # fmt: skip
        sp = ("siteid", "assetnum", "itemnum")
        s["MXAPIASSETSPARE"] = ObjectStructure(
            "MXAPIASSETSPARE", sp, ("assetnum", "siteid", "itemnum"), None, self.n_spareparts,
            self._sparepart, sp, _prefixes(sp),
        )  # fmt: skip
        s["MXAPIITEMSTRUCT"] = ObjectStructure(
            "MXAPIITEMSTRUCT", ("itemstructid",), ("itemstructid",), None, 2 * self.n_kits,
            self._itemstruct, ("itemstructid",), _prefixes(("itemstructid",)), ("itemstructid", 1),
        )  # fmt: skip
        s["MXAPIDOMAIN"] = ObjectStructure(
            "MXAPIDOMAIN", ("domainid",), ("domainid",), None, len(DOMAINS), self._domain,
            ("domainid",), _prefixes(("domainid",)), None, {}, ("synonymdomain",),
        )  # fmt: skip

    # --- builders (dates as epoch seconds; None for absent values) -----------------------------
    def _wo(self, i: int) -> dict[str, Any]:
        # the hottest builder (the benchmark reads a million of these): table lookups, no calls
        h, h2 = mix(self.seed, 1, i), mix(self.seed, 11, i)
        site = (i % GROUP) * NS // GROUP
        t = self._wo_t0 + (i // GROUP) * self._wo_step
        status = WO_STATUSES[h % 7]
        per = self._asset_per_site
        a = h2 % per
        asset = GROUP * (a // 2) + site * 2 + a % 2  # nth_in_site for GROUP 6, 3 sites
        loc = self._asset_loc[asset]
        if loc is None:
            loc = self._asset_loc[asset] = self.asset_location(asset)
        reported = t - 86400 * (1 + (h >> 8) % 30)
        sched = reported + 3600 * (1 + (h >> 13) % 72)
        done = status == "COMP" or status == "CLOSE"
        parent = None
        if i >= GROUP and (h >> 20) % 10 == 0:
            parent = str(1000000 + nth_in_site((h >> 24) % (2 * (i // GROUP)), site))
        worktype = WORKTYPES[(h >> 28) % 5]
        persons, n_persons = self._persons, self.n_persons
        return {
            "wonum": str(1000000 + i), "siteid": SITES[site], "orgid": ORG,
            "workorderid": i + 1,
            "description": f"{ACTIONS[(h >> 32) % 8]} {LOWER_WORDS[(h >> 36) % 16]} {i}",
            "status": status, "statusdate": t, "worktype": worktype, "woclass": "WORKORDER",
            "wopriority": 1 + (h >> 40) % 5, "assetnum": str(100000 + asset), "location": loc,
            "pmnum": str(10000 + self.pick(self.n_pm, site, h2 >> 20)) if worktype == "PM" else None,
            "parent": parent, "reportdate": reported, "reportedby": persons[(h >> 44) % n_persons],
            "schedstart": sched, "schedfinish": sched + 7200, "targcompdate": sched + 259200,
            "actstart": sched if done else None, "actfinish": sched + 5400 if done else None,
            "estdur": 0.5 * (1 + (h >> 48) % 16),
            "actlabhrs": 0.25 * (1 + (h >> 52) % 24) if done else 0.0,
            "persongroup": self._groups[(h >> 30) % self.n_groups],
            "lead": persons[(h >> 34) % n_persons], "supervisor": persons[(h >> 38) % n_persons],
            "glaccount": GL[(h >> 42) % 900], "woeq1": EQ[(h >> 46) % 100],
            "wolo1": SHIFTS[(h >> 50) % 3], "changedate": t, "changeby": "MAXADMIN",
            "_rowstamp": 1000 + i,
        }  # fmt: skip

    def _asset(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 3, j)
        site = grouped_site(j)
        t = self.structures["MXAPIASSET"].time_of(j)
        status = ("OPERATING", "OPERATING", "OPERATING", "NOT READY", "DECOMMISSIONED")[h % 5]
        parent = str(100000 + nth_in_site((h >> 8) % max(1, j // NS), site)) if j >= GROUP and (h >> 4) % 4 == 0 else None  # fmt: skip
        if parent == str(100000 + j):
            parent = None
        return {
            "assetnum": str(100000 + j), "siteid": SITES[site], "orgid": ORG, "assetuid": j + 1,
            "description": f"{WORDS[(h >> 12) % 16]} #{j}", "status": status, "statusdate": t,
            "location": self.asset_location(j), "parent": parent,
            "serialnum": f"SN{(h >> 16) % 10**8:08d}", "manufacturer": ("ACME", "GRUNDFOS", "SIEMENS", "ABB")[(h >> 24) % 4],
            "pluscmodelnum": f"M-{(h >> 28) % 1000}", "vendor": self.vendor(h >> 32),
            "assettype": ("PUMP", "MOTOR", "FLEET", "HVAC")[(h >> 36) % 4], "priority": 1 + (h >> 40) % 5,
            "installdate": T0 - 86400 * (100 + (h >> 44) % 2000), "purchaseprice": float((h >> 48) % 50000),
            "isrunning": status == "OPERATING", "changedate": t, "changeby": "MAXADMIN",
            "templateid": f"T{1000 + (h >> 52) % N_TEMPLATES}" if (h >> 56) % 3 == 0 else None,
            "_rowstamp": 2000000 + j,
        }  # fmt: skip

    def _location(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 4, j)
        store = j < GROUP
        t = self.structures["MXAPIOPERLOC"].time_of(j)
        name = self.location_name(j)
        return {
            "location": name, "siteid": SITES[grouped_site(j)], "orgid": ORG, "locationsid": j + 1,
            "description": f"{name.title()} storeroom" if store else f"Area {WORDS[h % 16].lower()} {j}",
            "type": "STOREROOM" if store else "OPERATING", "status": "OPERATING",
            "isdefault": store and j % 2 == 0, "disabled": False, "changedate": t,
            "changeby": "MAXADMIN", "_rowstamp": 3000000 + j,
        }  # fmt: skip

    def _site(self, j: int) -> dict[str, Any]:
        return {
            "siteid": SITES[j], "orgid": ORG, "siteuid": j + 1, "active": True,
            "description": f"{SITES[j].title()} plant", "_rowstamp": 4000000 + j,
        }  # fmt: skip

    def _pm(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 5, j)
        site = grouped_site(j)
        t = self.structures["MXAPIPM"].time_of(j)
        asset = self.pick(self.n_assets, site, h)
        return {
            "pmnum": str(10000 + j), "siteid": SITES[site], "orgid": ORG, "pmuid": j + 1,
            "description": f"{ACTIONS[(h >> 8) % 8]} {WORDS[(h >> 12) % 16].lower()} every period",
            "status": "ACTIVE" if (h >> 16) % 5 else "INACTIVE", "assetnum": str(100000 + asset),
            "location": self.asset_location(asset), "frequency": 1 + (h >> 20) % 12,
            "frequnit": ("DAYS", "WEEKS", "MONTHS")[(h >> 24) % 3], "priority": 1 + (h >> 28) % 5,
            "worktype": "PM", "persongroup": self.group_name(h >> 32), "nextdate": t + 86400 * 30,
            "lastcompdate": t - 86400 * 30, "changedate": t, "changeby": "MAXADMIN",
            "jpnum": f"JP{1000 + (h >> 36) % N_JOBPLANS}" if (h >> 40) % 4 else None,
            "_rowstamp": 5000000 + j,
        }  # fmt: skip

    def _item(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 6, j)
        return {
            "itemnum": str(500000 + j), "itemsetid": ITEMSET, "itemid": j + 1,
            "description": f"{WORDS[h % 16]} part {j}", "status": ("ACTIVE", "ACTIVE", "PENDING", "OBSOLETE")[(h >> 4) % 4],
            "statusdate": T0 + (h >> 8) % SPAN, "issueunit": ("EA", "EA", "BOX", "M", "L")[(h >> 40) % 5],
            "orderunit": "EA", "rotating": False, "iskit": j % 10 == 0,
            "commoditygroup": "SPARES", "_rowstamp": 6000000 + j,
        }  # fmt: skip

    def _inventory(self, j: int) -> dict[str, Any]:
        block = self.n_items * 2
        site, o = divmod(j, block)
        item, store = divmod(o, 2)
        h = mix(self.seed, 7, j)
        bal = (
            [float((h >> 8) % 50), float((h >> 16) % 20)]
            if (h >> 4) % 3
            else [float((h >> 8) % 50)]
        )
        return {
            "itemnum": str(500000 + item), "itemsetid": ITEMSET, "siteid": SITES[site], "orgid": ORG,
            "location": STORES[store], "inventoryid": j + 1, "status": "ACTIVE",
            "issueunit": "EA", "minlevel": float((h >> 24) % 5), "maxlevel": float(10 + (h >> 28) % 40),
            "orderqty": float(5 + (h >> 32) % 10), "binnum": f"B-{(h >> 36) % 99:02d}",
            "curbaltotal": sum(bal), "avgcost": round(2.5 + (h >> 40) % 400 / 4, 2),
            "_rowstamp": 7000000 + j,
            "invbalances": [
                {"itemnum": str(500000 + item), "location": STORES[store], "binnum": f"B-{(h >> 36) % 99:02d}",
                 "lotnum": f"LOT{k}" if k else None, "curbal": b, "physcnt": b,
                 "invbalancesid": j * 4 + k + 1, "siteid": SITES[site], "_rowstamp": 7500000 + j * 4 + k}
                for k, b in enumerate(bal)
            ],
        }  # fmt: skip

    def _po(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 8, j)
        site = grouped_site(j)
        t = self.structures["MXAPIPO"].time_of(j)
        lines = []
        total = 0.0
        for k in range(1 + (h >> 4) % 4):
            hk = mix(self.seed, 9, j * 8 + k)
            qty, cost = float(1 + hk % 20), float(5 + (hk >> 8) % 500)
            total += qty * cost
            lines.append({
                "ponum": str(100000 + j), "siteid": SITES[site], "orgid": ORG, "polinenum": k + 1,
                "polineid": j * 8 + k + 1, "itemnum": self.item(hk >> 16), "itemsetid": ITEMSET,
                "description": f"{WORDS[(hk >> 20) % 16]} part", "orderqty": qty,
                "orderunit": "EA", "unitcost": cost, "linecost": qty * cost,
                "receivedqty": float((hk >> 24) % (int(qty) + 1)), "linetype": "ITEM",
                "storeloc": STORES[(hk >> 28) % 2], "reqdeliverydate": t + 86400 * 14,
                "vendeliverydate": t + 86400 * 10 if (hk >> 32) % 2 else None,
                "assetnum": str(100000 + self.pick(self.n_assets, site, hk >> 36)) if (hk >> 34) % 4 == 0 else None,
                "_rowstamp": 8500000 + j * 8 + k,
            })  # fmt: skip
        return {
            "ponum": str(100000 + j), "siteid": SITES[site], "orgid": ORG, "poid": j + 1,
            "revisionnum": 0, "description": f"Order for {WORDS[h % 16].lower()} parts",
            "status": PO_STATUSES[(h >> 8) % len(PO_STATUSES)], "statusdate": t,
            "vendor": self.vendor(h >> 12), "orderdate": t - 3600, "requireddate": t + 86400 * 14,
            "currencycode": "USD", "totalcost": round(total, 2), "totaltax1": round(total * 0.07, 2),
            "purchaseagent": self.person(h >> 20), "paymentterms": "NET30",
            "changedate": t, "changeby": "MAXADMIN", "_rowstamp": 8000000 + j, "poline": lines,
        }  # fmt: skip

    def _company(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 10, j)
        t = self.structures["MXAPICOMPANY"].time_of(j)
        return {
            # every sixth company a manufacturer (M), every sixth from the fifth a courier (C)
            "company": f"V{100000 + j}", "orgid": ORG, "companiesid": j + 1,
            "type": {4: "M", 5: "C"}.get(j % 6, "V"),
            "name": f"{LAST[h % 10]} {WORDS[(h >> 8) % 16]} Supply", "currencycode": "USD",
            # Maximo's company address: address1 street, 2 city, 3 state, 4 postal code, 5 country
            "address1": f"{1 + (h >> 16) % 999} Main St", "phone": f"555-{(h >> 24) % 10000:04d}",
            "address2": ("Bedford", "Nashua", "Austin")[(h >> 32) % 3],
            "address3": ("MA", "NH", "TX")[(h >> 32) % 3], "address4": f"0{1730 + (h >> 36) % 90}",
            "address5": "US", "parentcompany": f"V{100000 + j - j % 6}" if j % 6 else None,
            "disabled": False, "changedate": t, "changeby": "MAXADMIN", "_rowstamp": 9000000 + j,
        }  # fmt: skip

    def _person(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 12, j)
        first, last = FIRST[h % 12], LAST[(h >> 8) % 10]
        site = (h >> 16) % NS
        return {
            "personid": f"P{100000 + j}", "personuid": j + 1, "firstname": first, "lastname": last,
            "displayname": f"{first} {last}", "status": "ACTIVE" if (h >> 20) % 8 else "INACTIVE",
            "statusdate": T0 + (h >> 24) % SPAN, "title": ("Technician", "Planner", "Supervisor")[(h >> 28) % 3],
            "primaryemail": f"{first.lower()}.{last.lower()}{j}@example.com",
            "locationsite": SITES[site], "locationorg": ORG,
            "location": self.location_name(nth_in_site((h >> 32) % (self.n_locations // NS), site)),
            "_rowstamp": 10000000 + j,
        }  # fmt: skip

    def _persongroup(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 13, j)
        members = sorted({self.person(mix(self.seed, 14, j * 8 + k)) for k in range(2 + h % 4)})
        return {
            "persongroup": f"CREW{j:04d}", "description": f"{WORDS[(h >> 8) % 16]} crew",
            "_rowstamp": 11000000 + j,
            "persongroupteam": [
                {"respparty": p, "resppartygroup": f"CREW{j:04d}", "resppartyseq": k + 1,
                 "persongroupteamid": j * 8 + k + 1}
                for k, p in enumerate(members)
            ],
        }  # fmt: skip

    def _meter_parts(self, j: int) -> tuple[int, int, str]:
        """(site, asset index, metername) of meter ``j``."""
        per_site = self.n_assets // NS
        site, o = divmod(j, per_site * 2)
        t, m = divmod(o, 2)
        return site, nth_in_site(t, site), ("RUNHOURS", "TEMP-F")[m]

    def _meter(self, j: int) -> dict[str, Any]:
        site, asset, name = self._meter_parts(j)
        h = mix(self.seed, 15, j)
        return {
            "assetnum": str(100000 + asset), "siteid": SITES[site], "orgid": ORG, "metername": name,
            "assetmeterid": j + 1, "measureunitid": "HOURS" if name == "RUNHOURS" else "DEG-F",
            "lastreading": float(h % 10000), "lastreadingdate": T0 + (h >> 16) % SPAN,
            "active": True, "_rowstamp": 12000000 + j,
        }  # fmt: skip

    def _reading(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 16, j)
        meter = h % self.n_meters
        site, asset, name = self._meter_parts(meter)
        t = self.structures["MXAPIMETERREADING"].time_of(j)
        return {
            "meterreadingid": j, "assetnum": str(100000 + asset), "siteid": SITES[site],
            "orgid": ORG, "metername": name, "reading": float((h >> 16) % 100000) / 10,
            "readingdate": t, "enterdate": t + 60, "enterby": "MAXADMIN", "_rowstamp": 13000000 + j,
        }  # fmt: skip

    def _organization(self, j: int) -> dict[str, Any]:
        return {
            "orgid": ORG, "organizationid": j + 1, "description": "Eagle North America",
            "basecurrency1": "USD", "active": True, "_rowstamp": 15000000 + j,
        }  # fmt: skip

    def _sr(self, j: int) -> dict[str, Any]:
        # service requests: every third one became a work order (origrecordid)
        h = mix(self.seed, 17, j)
        site = grouped_site(j)
        t = self.structures["MXAPISR"].time_of(j)
        asset = self.pick(self.n_assets, site, h)
        status = SR_STATUSES[h % len(SR_STATUSES)]
        wo = str(1000000 + nth_in_site((h >> 8) % max(1, self.size // NS), site)) if j % 3 == 0 and self.size >= NS else None  # fmt: skip
        return {
            "ticketid": str(2000 + j), "class": "SR", "ticketuid": j + 1, "siteid": SITES[site],
            "orgid": ORG, "description": f"{WORDS[(h >> 4) % 16]} not working #{j}",
            "status": status, "statusdate": t, "assetnum": str(100000 + asset),
            "assetsiteid": SITES[site], "location": self.asset_location(asset),
            "reportedby": self.person(h >> 12), "reportdate": t - 3600,
            "affecteddate": t - 7200, "reportedpriority": 1 + (h >> 16) % 4,
            "internalpriority": 1 + (h >> 20) % 4, "ownergroup": self.group_name(h >> 24),
            "owner": self.person(h >> 28), "targetfinish": t + 86400 * (1 + (h >> 32) % 5),
            "origrecordid": wo, "origrecordclass": "WORKORDER" if wo else None,
            "commoditygroup": ("FACILITIES", "IT", "PLANT")[(h >> 36) % 3],
            "changedate": t, "changeby": "MAXADMIN", "_rowstamp": 16000000 + j,
        }  # fmt: skip

    def _labor(self, j: int) -> dict[str, Any]:
        h = mix(self.seed, 18, j)
        site = j % NS
        return {
            "laborcode": f"L{100000 + j}", "laborid": j + 1, "orgid": ORG,
            "personid": f"P{100000 + j}", "worksite": SITES[site],
            "worklocation": self.location_name(self.pick(self.n_locations, site, h)),
            "craft": ("MECH", "ELEC", "INST")[h % 3],
            "status": "ACTIVE" if (h >> 8) % 5 else "INACTIVE", "vendor": None,
            "_rowstamp": 17000000 + j,
        }  # fmt: skip

    def _account(self, j: int) -> dict[str, Any]:
        # CHARTOFACCOUNTS: the GL accounts work orders charge (WORKORDER.glaccount), by component
        comp = GL[j].split("-")
        return {
            "glaccount": GL[j], "orgid": ORG, "chartofaccountsid": j + 1,
            "accountname": f"{WORDS[j % 16]} maintenance {comp[0]}", "active": j % 25 != 24,
            "glcomp01": comp[0], "glcomp02": comp[1], "glcomp03": comp[2],
            "_rowstamp": 18000000 + j,
        }  # fmt: skip

    def _unit(self, j: int) -> dict[str, Any]:
        unit, description, abbreviation = UNITS[j]
        return {
            "measureunitid": unit, "description": description, "abbreviation": abbreviation,
            "orgid": None, "siteid": None, "_rowstamp": 18500000 + j,
        }  # fmt: skip

    def _assetstatus(self, j: int) -> dict[str, Any]:
        # ASSETSTATUS: one row per up/down change of an asset. A row that brings an asset back up
        # carries the hours it was down (downtime); a down row has none (still down, or its
        # matching up row comes later)
        h = mix(self.seed, 19, j)
        site = grouped_site(j)
        t = self.structures["MXAPIASSETSTATUS"].time_of(j)
        asset = self.pick(self.n_assets, site, h)
        up = j % 3 != 2
        return {
            "assetstatusid": j + 1, "assetnum": str(100000 + asset), "siteid": SITES[site],
            "orgid": ORG, "location": self.asset_location(asset), "isrunning": up,
            "changedate": t, "changeby": "MAXADMIN", "code": DOWNCODES[(h >> 8) % 4],
            "downtime": 0.5 * (1 + (h >> 12) % 48) if up else None, "operational": False,
            "wonum": str(1000000 + nth_in_site((h >> 20) % max(1, self.size // NS), site))
            if up and self.size >= NS and (h >> 16) % 2 else None,
            "_rowstamp": 19000000 + j,
        }  # fmt: skip

    def _template(self, j: int) -> dict[str, Any]:
        # PLUSCTEMPLATE: asset templates are defined per organization
        h = mix(self.seed, 20, j)
        return {
            "templateid": f"T{1000 + j}", "orgid": ORG, "plusctemplateid": j + 1,
            "description": f"{WORDS[j % 16]} standard build",
            "status": ("ACTIVE", "ACTIVE", "ACTIVE", "DRAFT", "INACTIVE")[h % 5],
            "assettype": ("PUMP", "MOTOR", "FLEET", "HVAC")[(h >> 4) % 4],
            "manufacturer": ("ACME", "GRUNDFOS", "SIEMENS", "ABB")[(h >> 8) % 4],
            "priority": 1 + (h >> 12) % 5, "_rowstamp": 20000000 + j,
        }  # fmt: skip

    def _template_part(self, j: int) -> dict[str, Any]:
        tmpl, k = divmod(j, 3)
        h = mix(self.seed, 21, j)
        item = 3 * (tmpl * 7 % max(1, self.n_items // 3)) + k  # three distinct items per template
        return {
            "templateid": f"T{1000 + tmpl}", "orgid": ORG, "plusctsparepartid": j + 1,
            "itemnum": str(500000 + item % self.n_items), "itemsetid": ITEMSET,
            "quantity": float(1 + h % 6), "description": f"{WORDS[(h >> 4) % 16]} part {item}",
            "_rowstamp": 20500000 + j,
        }  # fmt: skip

    def _doclink(self, j: int) -> dict[str, Any]:
        # DOCLINKS: attachments of work orders (ownerid = workorderid) and assets (assetuid)
        h = mix(self.seed, 22, j)
        t = self.structures["MXAPIDOCLINKS"].time_of(j)
        on_wo = j % 2 == 0 and self.size > 0
        owner = (h >> 8) % self.size if on_wo else (h >> 8) % self.n_assets
        file = j % 3 != 2
        word = LOWER_WORDS[(h >> 16) % 16].replace(" ", "-")
        return {
            "doclinksid": j + 1, "document": f"DOC{10000 + j}",
            "ownertable": "WORKORDER" if on_wo else "ASSET", "ownerid": owner + 1,
            "doctype": ("Attachments", "Diagrams", "Images")[(h >> 4) % 3],
            "urltype": "FILE" if file else "URL",
            "urlname": f"/DOCLINKS/attachments/{word}-{j}.{('pdf', 'png', 'docx')[(h >> 20) % 3]}"
            if file else f"https://docs.example.com/manuals/{word}-{j}.html",
            "description": f"{WORDS[(h >> 16) % 16]} {('manual', 'drawing', 'photo')[(h >> 24) % 3]}",
            "createdate": t - 3600, "createby": "MAXADMIN", "changedate": t, "changeby": "MAXADMIN",
            "_rowstamp": 21000000 + j,
        }  # fmt: skip

    def _receipt(self, j: int) -> dict[str, Any]:
        # MATRECTRANS: receipts against PO lines; every third is a RETURN to the vendor (negative
        # quantity and cost)
        h = mix(self.seed, 23, j)
        site = grouped_site(j)
        t = self.structures["MXAPIRECEIPT"].time_of(j)
        po_i = self.pick(self.n_pos, site, h)
        po = self.structures["MXAPIPO"].build(po_i)  # type: ignore[misc]
        line = po["poline"][(h >> 8) % len(po["poline"])]
        ret = j % 3 == 0
        qty = float(1 + (h >> 12) % int(line["orderqty"]))
        sign = -1.0 if ret else 1.0
        return {
            "matrectransid": j + 1, "siteid": SITES[site], "orgid": ORG, "ponum": po["ponum"],
            "polinenum": line["polinenum"], "itemnum": line["itemnum"], "itemsetid": ITEMSET,
            "description": line["description"], "issuetype": "RETURN" if ret else "RECEIPT",
            "quantity": sign * qty, "receiptquantity": sign * qty, "unitcost": line["unitcost"],
            "linecost": round(sign * qty * line["unitcost"], 2), "currencycode": "USD",
            "transdate": t, "actualdate": t - 1800, "tostoreloc": line["storeloc"],
            "status": ("COMP", "COMP", "WINSP", "WASSET")[(h >> 16) % 4] if not ret else
            ("COMP", "COMP", "WINSP")[(h >> 16) % 3],
            "remark": RETURN_REASONS[(h >> 20) % 3] if ret else None, "enterby": "MAXADMIN",
            "_rowstamp": 22000000 + j,
        }  # fmt: skip

    def _wpmaterial(self, j: int) -> dict[str, Any]:
        # WPMATERIAL: planned materials of every second work order of each site
        per = self.n_wpmaterial // NS
        site, o = divmod(j, per)
        wo = nth_in_site(2 * o, site)
        h = mix(self.seed, 24, j)
        qty, cost = float(1 + h % 8), float(5 + (h >> 8) % 200)
        return {
            "wonum": str(1000000 + wo), "siteid": SITES[site], "orgid": ORG, "wpitemid": j + 1,
            "itemnum": self.item(h >> 16), "itemsetid": ITEMSET,
            "description": f"{WORDS[(h >> 24) % 16]} part", "itemqty": qty, "orderunit": "EA",
            "unitcost": cost, "linecost": qty * cost, "location": STORES[(h >> 28) % 2],
            "storelocsite": SITES[site], "_rowstamp": 23000000 + j,
        }  # fmt: skip

    def _jobplan(self, j: int) -> dict[str, Any]:
        # JOBPLAN with its planned materials (JOBMATERIAL); PMs name their job plan (PM.jpnum)
        h = mix(self.seed, 25, j)
        return {
            "jpnum": f"JP{1000 + j}", "orgid": ORG, "siteid": None, "jobplanid": j + 1,
            "description": f"{ACTIONS[j % 8]} {LOWER_WORDS[(h >> 4) % 16]}", "status": "ACTIVE",
            "pluscrevnum": 0, "_rowstamp": 24000000 + j,
            "jobmaterial": [
                {"jobmaterialid": j * 4 + k + 1, "jpnum": f"JP{1000 + j}", "orgid": ORG,
                 "itemnum": self.item(mix(self.seed, 26, j * 4 + k)), "itemsetid": ITEMSET,
                 "itemqty": float(1 + (h >> (8 + 4 * k)) % 5), "orderunit": "EA",
                 "location": STORES[k % 2], "_rowstamp": 24500000 + j * 4 + k}
                for k in range(1 + h % 3)
            ],
        }  # fmt: skip

    def _sparepart(self, j: int) -> dict[str, Any]:
        # SPAREPART: one spare part per asset (the asset's site and number, ascending)
        per = self.n_assets // NS
        site, o = divmod(j, per)
        asset = nth_in_site(o, site)
        h = mix(self.seed, 27, j)
        item = self.item(h)
        return {
            "assetnum": str(100000 + asset), "siteid": SITES[site], "orgid": ORG,
            "itemnum": item, "itemsetid": ITEMSET, "quantity": float(1 + (h >> 8) % 4),
            "description": f"{WORDS[int(item) % 16]} part {int(item) - 500000}",
            "remarks": "Keep one on the shelf" if (h >> 12) % 2 else None,
            "sparepartid": j + 1, "_rowstamp": 25000000 + j,
        }  # fmt: skip

    def _itemstruct(self, j: int) -> dict[str, Any]:
        # ITEMSTRUCT: two components under each kit (items 0, 10, 20...: ITEM.iskit)
        kit, k = divmod(j, 2)
        kit_item = 10 * kit
        part = (kit_item + 1 + k) % self.n_items
        return {
            "itemstructid": j + 1, "itemsetid": ITEMSET, "itemnum": str(500000 + kit_item),
            "itemid": str(500000 + part), "parent": str(500000 + kit_item),
            "quantity": float(1 + k), "instance": 0, "location": None,
            "_rowstamp": 26000000 + j,
        }  # fmt: skip

    def _domain(self, j: int) -> dict[str, Any]:
        name = sorted(DOMAINS)[j]
        return {
            "domainid": name, "domaintype": "SYNONYM", "maxtype": "UPPER",
            "description": f"{name} synonym domain", "_rowstamp": 14000000 + j,
            "synonymdomain": [
                {"domainid": name, "value": v, "maxvalue": iv, "description": d,
                 "defaults": True, "valueid": f"{name}|{v}"}
                for v, (iv, d) in DOMAINS[name].items()
            ],
        }  # fmt: skip


def _prefixes(order: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(order[: k + 1] for k in range(len(order)))
