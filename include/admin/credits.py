"""Connection credits: what a connection costs and how many credits a customer's pool holds.

Cost = the system's tier (1, 2 or 4 credits) x ``on_premise_factor`` (2) for on-premise
deployments. The table is configurable: the Airflow Variable ``millwright_credit_costs`` (JSON), else
the file named by ``MILLWRIGHT_CREDIT_COSTS``, else `DEFAULT_COSTS`. A customer without a pool set
by an admin gets ``default_pool`` credits. See docs/LIFECYCLE.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

COSTS_VARIABLE = "millwright_credit_costs"
COSTS_FILE_ENV = "MILLWRIGHT_CREDIT_COSTS"
TIERS = (1, 2, 4)


class CostTable(BaseModel):
    """Credits per system tier, the on-premise factor and the default pool size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: dict[str, int] = Field(description="system -> 1, 2 or 4 credits")
    default_tier: int = Field(default=2, description="cost of a system not listed")
    on_premise_factor: int = Field(default=2, ge=1)
    default_pool: int = Field(default=10, ge=0, description="pool of a customer with none set")

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, int]) -> dict[str, int]:
        bad = {k: n for k, n in v.items() if n not in TIERS}
        if bad:
            raise ValueError(f"tiers must be 1, 2 or 4 credits: {bad}")
        return v

    @field_validator("default_tier")
    @classmethod
    def _default_tier(cls, v: int) -> int:
        if v not in TIERS:
            raise ValueError("default_tier must be 1, 2 or 4")
        return v

    def cost(self, system: str, deployment: Literal["cloud", "on_premise"] | str) -> int:
        base = self.tiers.get(system, self.default_tier)
        return base * (self.on_premise_factor if deployment == "on_premise" else 1)


DEFAULT_COSTS = CostTable(
    tiers={"maximo": 4, "sap_s4hana": 4, "tryton": 2, "maintainx": 1, "limble": 1},
)


class CostTableError(ValueError):
    """The configured cost table is not valid (its source is named)."""


def parse_costs(text: str, source: str) -> CostTable:
    try:
        return CostTable.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise CostTableError(f"credit cost table in {source} is invalid: {exc}") from None


def load_costs(read_variable: Callable[[str], str | None] | None = None) -> CostTable:
    """The Variable (via ``read_variable``), else the env-named file, else the defaults."""
    if read_variable is not None:
        text = read_variable(COSTS_VARIABLE)
        if text:
            return parse_costs(text, f"Airflow Variable {COSTS_VARIABLE!r}")
    path = os.environ.get(COSTS_FILE_ENV)
    if path:
        return parse_costs(Path(path).read_text(), f"file {path}")
    return DEFAULT_COSTS
