"""The Tryton connector: windows on write_date OR create_date, keyset paging, stock snapshots.

Settings: ``host`` is the server's base URL (``http://127.0.0.1:8000``), credentials
``{"user": ..., "password": ...}``, ``options["database"]`` the database name, optional
``options["company"]`` (company id; default: the first company) and ``options["vendor_domain"]``
(a Tryton domain restricting ``party.party``; default: every party). Naive Tryton timestamps are
UTC (trytond stores UTC); windows are sent in the connection's ``timezone``, which should stay UTC
unless the server was patched to store local time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.base import (
    ChangedWhen,
    Connector,
    EntitySpec,
    SourceField,
    SourceSettings,
    Window,
)
from connectors.tryton.client import TrytonRpc
from connectors.tryton.mapping import (
    CHANGED_WHEN,
    NO_CONCEPT,
    READS,
    STATUS_CATEGORIES,
    STATUSES,
)

LINES = "purchase-orders.line-items"
STOCK_ROW = (("product", "many2one"), ("location", "many2one"), ("warehouse", "many2one"),
             ("quantity", "float"), ("default_uom", "many2one"))  # fmt: skip
# stock moves that have changed a product's quantity (a done move may be cancelled later)
MOVED = ("state", "in", ["done", "cancelled"])


def window_domain(start: datetime | None, end: datetime | None) -> list:
    """Records created or edited in [start, end): write_date stays NULL until the first edit."""
    if start is None and end is None:
        return []

    def within(field: str) -> list:
        out: list = []
        if start is not None:
            out.append((field, ">=", start))
        if end is not None:
            out.append((field, "<", end))
        return out

    return ["OR", within("write_date"), [("write_date", "=", None), *within("create_date")]]


class TrytonConnector(Connector):
    system = "tryton"
    entities = {
        name: EntitySpec(
            name,
            mapping,
            incremental=opts.get("incremental", True),
            options=opts,
            changed_when=CHANGED_WHEN.get(name, ChangedWhen()),
        )  # fmt: skip
        for name, (mapping, opts) in READS.items()
    }
    status_categories = STATUS_CATEGORIES
    no_concept = NO_CONCEPT

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        creds = settings.credentials
        self.rpc = TrytonRpc(
            settings.host,
            str(settings.options.get("database") or ""),
            creds.get("user", ""),
            creds.get("password", ""),
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            context={"active_test": False},
        )
        self._company: int | None = settings.options.get("company")

    def check(self) -> None:
        """Log in (a wrong password is 401, never retried) and read one company id."""
        self.rpc.login()
        self.rpc.search_read("company.company", [], ["id"], limit=1)

    def _context(self) -> dict[str, Any]:
        """``company`` in the context, or prices come back null."""
        if self._company is None:
            rows = self.rpc.search_read("company.company", [], ["id"], limit=1)
            self._company = rows[0]["id"] if rows else None
            if self._company is not None:
                self.rpc.context["company"] = self._company
        elif "company" not in self.rpc.context:
            self.rpc.context["company"] = self._company
        return self.rpc.context

    def _naive(self, when: datetime | None) -> datetime | None:
        if when is None:
            return None
        return when.astimezone(self.settings.timezone).replace(tzinfo=None)

    def _spec(self, entity: str) -> dict[str, Any]:
        try:
            return dict(self.entities[entity].options)
        except KeyError:
            known = ", ".join(sorted(self.entities))
            raise KeyError(f"tryton: unknown entity {entity!r}; supported: {known}") from None

    # --- metadata: what each model offers (custom fields) ---
    @classmethod
    def raw_path(cls, entity: str, path: str) -> str:
        """``party.code`` (Tryton's dotted read) comes back under ``party_rel``."""
        head, dot, rest = path.partition(".")
        if not dot or (entity == "purchase-orders" and head == "lines"):  # lines: attached
            return path
        return f"{head}_rel.{rest}"

    def _model_of(self, entity: str) -> str:
        if entity == LINES:
            return self._spec("purchase-orders")["lines"]["model"]
        return self._spec(entity)["model"]

    def describe(self, entity: str) -> list[SourceField]:
        """The model's fields from ``fields_get`` (type, label); a many2one's target fields
        one level down (read as ``party.code``)."""
        cache: dict[str, dict] = {}

        def fields_of(model: str) -> dict:
            if model not in cache:
                cache[model] = self.rpc.model(model, "fields_get", [], context=self._context())
            return cache[model]

        def described(model: str, depth: int) -> list[SourceField]:
            out = []
            for name, d in sorted(fields_of(model).items()):
                kind, target = str(d.get("type")), d.get("relation")
                children = described(target, 0) if kind == "many2one" and target and depth else []
                out.append(SourceField(name, kind, d.get("string"), children=tuple(children)))
            return out

        if entity == "stocks":  # one row per product and location, built here
            return [SourceField(n, t) for n, t in STOCK_ROW]
        if entity == "purchase-orders.line-items":
            return described(self._model_of(entity), 1)
        out = described(self._model_of(entity), 1)
        if entity == "purchase-orders":  # the connector attaches the line records
            lines = SourceField("lines", "one2many", "Lines", many=True,
                                children=tuple(described(self._model_of(LINES), 1)))  # fmt: skip
            out = [lines if f.name == "lines" else f for f in out]
        return out

    def _fields(self, entity: str, spec: dict[str, Any]) -> list[str]:
        """The mapping's fields plus the custom fields' paths (Tryton reads ``a.b`` itself)."""
        extra = [p for p in self.requested(entity) if not p.startswith("lines.")]
        return list(dict.fromkeys([*spec["fields"], *extra]))

    def read(self, entity: str, window: Window) -> Iterator[list[dict[str, Any]]]:
        spec = self._spec(entity)
        self._context()
        if entity == "stocks":
            yield from self._stocks()
            return
        domain = list(spec.get("domain", []))
        if entity == "vendors" and self.settings.options.get("vendor_domain"):
            domain.append(list(self.settings.options["vendor_domain"]))
        if spec.get("customers"):
            domain.append(("id", "in", self._customer_ids()))
        wdom = self._changed_within(entity, window)
        if wdom:
            domain.append(wdom)
        context = None
        if spec.get("quantity_in_warehouses"):
            # Without locations in the context Tryton answers quantity 0: sum all warehouses.
            whs = self.rpc.search_read(
                "stock.location", [("type", "=", "warehouse")], [], limit=1000
            )
            context = {"locations": [w["id"] for w in whs]}
        for page in self.rpc.pages(
            spec["model"], domain, self._fields(entity, spec), page_size=self.settings.page_size,
            context=context,
        ):  # fmt: skip
            if "lines" in spec:
                self._attach_lines(page, spec["lines"])
            if "moves" in spec and isinstance(spec["moves"], dict):
                self._attach_shipment_moves(page, spec["moves"])
            if spec.get("customers"):
                self._attach_first_sales(page)
            if spec.get("moves") is True:
                self._attach_moves(page, self._naive(window.start))
            if entity in ("locations", "storerooms"):
                inside = self._warehouse_finder()
                for row in page:
                    row["warehouse"] = inside(row.get("left"))
            yield page

    def _changed_within(self, entity: str, window: Window) -> list:
        """The window's domain: the record's own times OR any related change time that its
        ``changed_when`` declares (``template_rel.x`` -> ``template.write_date``, ...; Tryton
        searches through many2one and one2many fields), OR, for stock moves, the ids of the
        products whose moves changed in the window (a second, small query)."""
        start, end = self._naive(window.start), self._naive(window.end)
        own = window_domain(start, end)
        if not own:
            return []
        alternatives: list = [own]
        for path in self.entities[entity].changed_when.related:
            head = path.split(".", 1)[0]
            if head == "moves_changed_at":
                moved = self._moved_products(own)
                if moved:
                    alternatives.append([("id", "in", moved)])
            elif head == "first_sale_at":
                sold = self._customer_ids(own)
                if sold:
                    alternatives.append([("id", "in", sold)])
            elif "." in path:
                alternatives.append(_prefix(own, head.removesuffix("_rel") + "."))
        return alternatives[0] if len(alternatives) == 1 else ["OR", *alternatives]

    def _moved_products(self, window: list) -> list[int]:
        """Ids of the products with a done (or cancelled) move changed within ``window``."""
        ids: set[int] = set()
        for page in self.rpc.pages(
            "stock.move", [MOVED, window], ["product"], page_size=self.settings.page_size
        ):
            ids.update(m["product"] for m in page if m.get("product"))
        return sorted(ids)

    def _customer_ids(self, window: list | None = None) -> list[int]:
        """Ids of the parties of sales (created in ``window`` when given): Tryton's customers.
        Tryton has no customer flag and ``party.party`` no link back to its sales, so the sales
        are paged (their ``party`` only)."""
        ids: set[int] = set()
        domain = [window] if window else []
        for page in self.rpc.pages(
            "sale.sale", domain, ["party"], page_size=self.settings.page_size
        ):
            ids.update(s["party"] for s in page if s.get("party"))
        return sorted(ids)

    def _attach_first_sales(self, page: list[dict[str, Any]]) -> None:
        """``first_sale_at``: per party, the creation time of its earliest sale (when it
        became a customer)."""
        first: dict[int, str] = {}
        for sales in self.rpc.pages(
            "sale.sale", [("party", "in", [row["id"] for row in page])],
            ["party", "create_date"], page_size=self.settings.page_size,
        ):  # fmt: skip
            for sale in sales:
                when, held = sale.get("create_date"), first.get(sale["party"])
                if when and (held is None or _padded(when) < _padded(held)):
                    first[sale["party"]] = when
        for row in page:
            row["first_sale_at"] = first.get(row["id"])

    def _attach_shipment_moves(self, page: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        """Replace each shipment's ``moves`` (ids) by the move records, read in id pages."""
        wanted = {m: row["id"] for row in page for m in row.get("moves") or []}
        by_shipment: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in page}
        if wanted:
            for moves in self.rpc.pages(
                spec["model"], [("id", "in", sorted(wanted))], spec["fields"],
                page_size=self.settings.page_size,
            ):  # fmt: skip
                for move in moves:
                    by_shipment[wanted[move["id"]]].append(move)
        for row in page:
            row["moves"] = sorted(by_shipment[row["id"]], key=lambda m: m["id"])

    def _attach_moves(self, page: list[dict[str, Any]], since: datetime | None) -> None:
        """``moves_changed_at``: per product, the latest change time of its done (or cancelled)
        stock moves — changed since ``since`` on incremental reads (older moves are older than
        whatever made the product change in this window), all of them on a full read, so the
        version never falls below one stored earlier."""
        latest: dict[int, str] = {}
        domain: list = [("product", "in", [row["id"] for row in page]), MOVED]
        if since is not None:
            domain.append(window_domain(since, None))
        for moves in self.rpc.pages(
            "stock.move", domain, ["product", "write_date", "create_date"],
            page_size=self.settings.page_size,
        ):  # fmt: skip
            for m in moves:
                when = m.get("write_date") or m.get("create_date")
                held = latest.get(m["product"])
                if when and (held is None or _padded(when) > _padded(held)):
                    latest[m["product"]] = when
        for row in page:
            row["moves_changed_at"] = latest.get(row["id"])

    def read_keys(self, entity: str) -> Iterator[list[dict[str, Any]]]:
        spec = self._spec(entity)
        if entity == "stocks":
            yield from self.read(entity, Window())
            return
        self._context()
        domain = list(spec.get("domain", []))
        if entity == "vendors" and self.settings.options.get("vendor_domain"):
            domain.append(list(self.settings.options["vendor_domain"]))
        if spec.get("customers"):
            domain.append(("id", "in", self._customer_ids()))
        yield from self.rpc.pages(spec["model"], domain, [], page_size=self.settings.page_size)

    def _warehouse_finder(self):
        """``left -> id`` of the innermost warehouse containing a location (nested set)."""
        whs = self.rpc.search_read(
            "stock.location", [("type", "=", "warehouse")], ["left", "right"], limit=100_000
        )
        whs.sort(key=lambda w: w["right"] - w["left"])  # innermost first

        def find(left: int | None) -> int | None:
            if left is None:
                return None
            return next((w["id"] for w in whs if w["left"] < left < w["right"]), None)

        return find

    def _attach_lines(self, page: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        """Replace each purchase's ``lines`` (ids) by the line records, read in id pages."""
        ids = [row["id"] for row in page]
        by_purchase: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        line_fields = [
            *spec["fields"],
            *self.settings.custom_paths.get("purchase-orders.line-items", ()),
        ]
        for lines in self.rpc.pages(
            spec["model"], [("purchase", "in", ids)], list(dict.fromkeys(line_fields)),
            page_size=self.settings.page_size,
        ):  # fmt: skip
            for line in lines:
                by_purchase[line["purchase"]].append(line)
        for row in page:
            row["lines"] = by_purchase[row["id"]]

    def _stocks(self) -> Iterator[list[dict[str, Any]]]:
        """Quantities on hand per storage location, each location alone (no children)."""
        locations = self.rpc.search_read(
            "stock.location", [("type", "=", "storage")], ["left"], limit=100_000
        )
        inside = self._warehouse_finder()
        for loc in locations:
            loc["warehouse"] = inside(loc["left"])
        fields = ["default_uom", "default_uom.symbol", "quantity"]
        for loc in locations:
            ctx = {"locations": [loc["id"]], "with_childs": False}
            for page in self.rpc.pages(
                "product.product", [("quantity", "!=", 0)], fields,
                page_size=self.settings.page_size, context=ctx,
            ):  # fmt: skip
                yield [
                    {
                        "product": row["id"],
                        "location": loc["id"],
                        "warehouse": loc.get("warehouse"),
                        "quantity": row.get("quantity"),
                        "default_uom": row.get("default_uom"),
                        "default_uom_rel": row.get("default_uom_rel"),
                    }
                    for row in page
                ]

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        rows = STATUSES.get(entity)
        if rows is None:
            return None
        return [{"key": code, "code": code, "name": name} for code, name in rows]

    def close(self) -> None:
        self.rpc.close()


def _prefix(domain: list, prefix: str) -> list:
    """Prefix every field of a domain (``write_date`` -> ``lines.write_date``)."""
    out: list = []
    for item in domain:
        if isinstance(item, tuple):
            out.append((prefix + item[0], *item[1:]))
        elif isinstance(item, list):
            out.append(_prefix(item, prefix))
        else:
            out.append(item)
    return out


def _padded(iso: str) -> str:
    """A naive ISO time with microseconds (``isoformat`` omits zero ones): text order = time."""
    return iso if "." in iso else iso + ".000000"
