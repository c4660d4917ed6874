"""The evidence base's domain model: typed ids and typed records.

Every record that carries a number carries the :class:`SourceId` of where the number comes from and a
:class:`Quality` flag. Relations are typed ids (``FacilityId``, ``OrganisationId``, ``CountryCode``),
never display names and never strings that encode a relation.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import NewType

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CountryCode = NewType("CountryCode", str)
"""ISO 3166-1 alpha-3 code (``CHN``), or one of the aggregate codes ``WLD`` (world) and ``OTH``
("other countries" rows of statistical tables)."""
GroupId = NewType("GroupId", str)
OrganisationId = NewType("OrganisationId", str)
CommodityId = NewType("CommodityId", str)
FormId = NewType("FormId", str)
FacilityId = NewType("FacilityId", str)
SourceId = NewType("SourceId", str)
ObservationId = NewType("ObservationId", str)
DealId = NewType("DealId", str)
EventId = NewType("EventId", str)

WORLD = CountryCode("WLD")
OTHER = CountryCode("OTH")
AGGREGATES = frozenset({WORLD, OTHER})


class Stage(StrEnum):
    """Stages of a mineral supply chain, mine to magnet, in chain order."""

    MINING = "mining"
    BENEFICIATION = "beneficiation"
    SEPARATION = "separation"
    METAL = "metal"
    MAGNET = "magnet"
    RECYCLING = "recycling"

    @property
    def order(self) -> int:
        return _STAGE_ORDER[self]


_STAGE_ORDER = {s: i for i, s in enumerate(Stage)}
CHAIN_STAGES: tuple[Stage, ...] = (Stage.MINING, Stage.BENEFICIATION, Stage.SEPARATION, Stage.METAL,
                                   Stage.MAGNET)


class Status(StrEnum):
    """Lifecycle status of a facility or project, in the order a project normally passes them."""

    ANNOUNCED = "announced"
    MOU = "mou"
    EXPLORATION = "exploration"
    PEA = "pea"
    PFS = "pfs"
    FS = "fs"
    FINANCED = "financed"
    CONSTRUCTION = "construction"
    COMMISSIONING = "commissioning"
    OPERATING = "operating"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return _STATUS_ORDER[self]

    @property
    def producing(self) -> bool:
        return self in (Status.COMMISSIONING, Status.OPERATING)


_STATUS_ORDER = {s: i for i, s in enumerate(Status)}


class Quality(StrEnum):
    """How a figure was seen: read in the publication (primary), only quoted by someone else
    (secondary), or quoted and not cross-checked (unconfirmed)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    UNCONFIRMED = "unconfirmed"


class SourceKind(StrEnum):
    STATISTICAL_RELEASE = "statistical_release"
    COMPANY_REPORT = "company_report"
    GOVERNMENT_STATEMENT = "government_statement"
    NEWS = "news"
    RESEARCH = "research"
    PRICE_ASSESSMENT = "price_assessment"
    DATASET = "dataset"


class OrgKind(StrEnum):
    COMPANY = "company"
    STATE_BODY = "state_body"
    MILITARY_BODY = "military_body"
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise"
    RESEARCH = "research"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Source(_Record):
    id: SourceId
    publisher: str
    title: str
    date: str | None = Field(None, description="publication date, ISO 8601 (YYYY, YYYY-MM or YYYY-MM-DD)")
    url: str | None = None
    kind: SourceKind
    licence: str | None = None
    notes: str | None = None


class Country(_Record):
    code: CountryCode
    name: str
    iso2: str | None = None
    numeric: int | None = None
    region: str | None = None


class CountryGroup(_Record):
    id: GroupId
    name: str
    members: tuple[CountryCode, ...]
    source_id: SourceId | None = None


class Organisation(_Record):
    id: OrganisationId
    name: str
    kind: OrgKind
    country: CountryCode = Field(description="the country that controls the organisation")
    aliases: tuple[str, ...] = ()
    source_id: SourceId
    notes: str | None = None


class Ownership(_Record):
    """``owner`` holds ``stake`` (0-1) of ``owned``."""

    owner: OrganisationId
    owned: OrganisationId
    stake: float = Field(ge=0, le=1)
    as_of: str | None = None
    source_id: SourceId


class Commodity(_Record):
    id: CommodityId
    name: str
    symbol: str | None = None
    critical_eu: bool = False
    eol_rir: float | None = Field(None, ge=0, le=1, description="EU end-of-life recycling input rate")
    notes: str | None = None


class Form(_Record):
    """A commodity's form at a stage: ore/concentrate, separated oxide, metal/alloy, magnet."""

    id: FormId
    commodity: CommodityId
    stage: Stage
    name: str
    unit: str = Field(description="the unit quantities of this form are given in, e.g. 't REO'")


class StatusChange(_Record):
    status: Status
    date: str
    source_id: SourceId
    note: str | None = None


class FacilityOwner(_Record):
    organisation: OrganisationId
    stake: float = Field(ge=0, le=1)
    source_id: SourceId


class Facility(_Record):
    id: FacilityId
    name: str
    site: str | None = Field(None, description="the physical site, shared by facilities of several stages")
    stage: Stage
    commodity: CommodityId
    form: FormId | None = None
    country: CountryCode = Field(description="host country")
    region: str | None = Field(None, description="sub-national region, e.g. Balochistan")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    operator: OrganisationId | None = None
    owners: tuple[FacilityOwner, ...] = ()
    capacity: float | None = Field(None, ge=0)
    capacity_unit: str | None = None
    capacity_year: int | None = None
    capacity_source_id: SourceId | None = None
    history: tuple[StatusChange, ...] = ()
    source_id: SourceId
    notes: str | None = None

    @model_validator(mode="after")
    def _capacity_has_unit(self) -> Facility:
        if self.capacity is not None and not self.capacity_unit:
            raise ValueError("capacity given without capacity_unit")
        return self

    @property
    def status(self) -> Status | None:
        """The latest status in the history (by date), or None when none is known."""
        if not self.history:
            return None
        return max(self.history, key=lambda h: (h.date, h.status.rank)).status


class Link(_Record):
    """A known material link between two facilities (offtake, tolling, trade)."""

    upstream: FacilityId
    downstream: FacilityId
    kind: str = "offtake"
    share: float | None = Field(None, ge=0, le=1)
    source_id: SourceId


class Observation(_Record):
    """One sourced number: what (metric, commodity, form, stage), where, when, value and unit."""

    id: ObservationId
    metric: str
    commodity: CommodityId
    stage: Stage | None = None
    form: FormId | None = None
    country: CountryCode | None = None
    facility: FacilityId | None = None
    year: int | None = None
    period: str | None = Field(None, description="date or period as published, e.g. '2024/25', '2025-09-25'")
    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    value_text: str | None = Field(None, description="the value exactly as published, e.g. '>90000000', 'W'")
    unit: str
    estimated: bool = False
    source_id: SourceId
    quality: Quality
    note: str | None = None

    @field_validator("value", "lower", "upper")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and v != v:  # NaN
            raise ValueError("NaN is not a value; leave it empty and keep value_text")
        return v


class DealParty(_Record):
    organisation: OrganisationId
    role: str


class DealPhase(_Record):
    seq: int
    name: str
    start: str | None = None
    end: str | None = None
    description: str
    status: Status | None = None
    milestones: tuple[Milestone, ...] = ()


class Milestone(_Record):
    date: str
    description: str
    source_id: SourceId


class Deal(_Record):
    id: DealId
    name: str
    signed: str | None = None
    value: float | None = None
    value_unit: str | None = None
    value_text: str | None = None
    parties: tuple[DealParty, ...]
    commodities: tuple[CommodityId, ...] = ()
    phases: tuple[DealPhase, ...] = ()
    status: Status
    source_id: SourceId
    notes: str | None = None


class Event(_Record):
    """A policy or security event, e.g. an export control with its scope and dates."""

    id: EventId
    kind: str
    name: str
    issuer: CountryCode | None = None
    announced: str | None = None
    start: str | None = None
    end: str | None = None
    suspends: EventId | None = Field(None, description="the event this one suspends, if any")
    commodities: tuple[CommodityId, ...] = ()
    elements: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    destinations: tuple[CountryCode, ...] = Field((), description="empty means all destinations")
    source_id: SourceId
    notes: str | None = None

    @property
    def active_on(self) -> dt.date | None:
        return dt.date.fromisoformat(self.start) if self.start and len(self.start) == 10 else None


DealPhase.model_rebuild()
