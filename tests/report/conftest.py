"""A small, fixed evidence base for report tests, independent of the shipped data (which is still growing).

The figures echo ../shared/reference (USGS MCS 2024/2025 values, the USSM-FWO MoU phases, China's
export-control dates) so the report reads sensibly, but every source here is the test source
``test-fixture``/``test-fixture-2``: these rows exist only in tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orechain.evidence.model import (
    Commodity,
    CommodityId,
    CountryCode,
    Deal,
    DealId,
    DealParty,
    DealPhase,
    Event,
    EventId,
    Facility,
    FacilityId,
    Milestone,
    Observation,
    Organisation,
    OrganisationId,
    OrgKind,
    Quality,
    Source,
    SourceId,
    SourceKind,
    Stage,
    Status,
    StatusChange,
)
from orechain.evidence.shipped import Dataset, load_into, observation_id
from orechain.evidence.store import Store

S1, S2 = SourceId("test-fixture"), SourceId("test-fixture-2")


def _obs(
    commodity: str,
    country: str,
    year: int,
    value: float | None,
    unit: str,
    source: SourceId,
    text: str | None = None,
    quality: Quality = Quality.PRIMARY,
    metric: str = "mine_production",
) -> Observation:
    return Observation(
        id=observation_id(source, metric, commodity, "mining", None, country, None, year, None),
        metric=metric,
        commodity=CommodityId(commodity),
        stage=Stage.MINING,
        country=CountryCode(country),
        year=year,
        value=value,
        value_text=text if text is not None else (None if value is None else str(value)),
        unit=unit,
        estimated=True,
        source_id=source,
        quality=quality,
    )


def fixture_dataset() -> Dataset:
    ds = Dataset()
    ds.sources = [
        Source(
            id=S1,
            publisher="Test publisher",
            title="Report test fixture, vintage 1",
            date="2024-01-31",
            kind=SourceKind.STATISTICAL_RELEASE,
        ),
        Source(
            id=S2,
            publisher="Test publisher",
            title="Report test fixture, vintage 2",
            date="2025-01-31",
            url="https://example.org/fixture-2",
            kind=SourceKind.STATISTICAL_RELEASE,
        ),
    ]
    ds.commodities = [
        Commodity(id=CommodityId(c), name=n)
        for c, n in (
            ("rare-earths", "Rare earths"),
            ("antimony", "Antimony"),
            ("tungsten", "Tungsten"),
            ("copper", "Copper"),
            ("gold", "Gold"),
        )
    ]
    ds.observations = [
        # rare earths: the same year (2023) from two vintages, and 2024 from the later one
        _obs("rare-earths", "CHN", 2023, 240000, "t REO", S1),
        _obs("rare-earths", "USA", 2023, 43000, "t REO", S1),
        _obs("rare-earths", "MMR", 2023, 38000, "t REO", S1),
        _obs("rare-earths", "WLD", 2023, 350000, "t REO", S1),
        _obs("rare-earths", "CHN", 2023, 255000, "t REO", S2),
        _obs("rare-earths", "WLD", 2023, 376000, "t REO", S2),
        _obs("rare-earths", "CHN", 2024, 270000, "t REO", S2),
        _obs("rare-earths", "USA", 2024, 45000, "t REO", S2),
        _obs("rare-earths", "WLD", 2024, 390000, "t REO", S2),
        # antimony: Pakistan present; a withheld figure
        _obs("antimony", "CHN", 2023, 40000, "t Sb", S1),
        _obs("antimony", "TJK", 2023, 21000, "t Sb", S1),
        _obs("antimony", "PAK", 2023, 80, "t Sb", S1),
        _obs("antimony", "USA", 2023, None, "t Sb", S1, text="W"),
        _obs("antimony", "WLD", 2023, 83000, "t Sb", S1),
        _obs("antimony", "PAK", 2023, 26000, "t Sb", S1, metric="reserves"),
        # a facility-level figure: not a country row, so not in the shares; it is a fact about Pakistan
        Observation(
            id=observation_id(S2, "mine_production", "antimony", "mining", None, None, "saindak", 2023, None),
            metric="mine_production",
            commodity=CommodityId("antimony"),
            stage=Stage.MINING,
            facility=FacilityId("saindak"),
            year=2023,
            value=999,
            value_text="999",
            unit="t Sb",
            source_id=S2,
            quality=Quality.SECONDARY,
        ),
        # tungsten: no world total in this source, so shares are over the sum of its rows
        _obs("tungsten", "CHN", 2023, 63000, "t W", S1),
        _obs("tungsten", "VNM", 2023, 3500, "t W", S1),
        _obs("tungsten", "RUS", 2023, 2300, "t W", S1),
    ]
    orgs = [
        ("fwo", "Frontier Works Organisation", OrgKind.MILITARY_BODY, "PAK"),
        ("ussm", "US Strategic Metals", OrgKind.COMPANY, "USA"),
        ("barrick", "Barrick", OrgKind.COMPANY, "CAN"),
        ("mcc", "Metallurgical Corporation of China", OrgKind.STATE_OWNED_ENTERPRISE, "CHN"),
    ]
    ds.organisations = [
        Organisation(id=OrganisationId(i), name=n, kind=k, country=CountryCode(c), source_id=S1) for i, n, k, c in orgs
    ]

    def fac(
        fid: str,
        name: str,
        stage: Stage,
        commodity: str,
        history: list[tuple[Status, str]],
        operator: str | None = None,
    ) -> Facility:
        return Facility(
            id=FacilityId(fid),
            name=name,
            stage=stage,
            commodity=CommodityId(commodity),
            country=CountryCode("PAK"),
            region="Balochistan",
            operator=OrganisationId(operator) if operator else None,
            source_id=S1,
            history=tuple(StatusChange(status=s, date=d, source_id=S2) for s, d in history),
        )

    ds.facilities = [
        fac(
            "reko-diq",
            "Reko Diq",
            Stage.MINING,
            "copper",
            [(Status.FS, "2022-12"), (Status.CONSTRUCTION, "2024-06"), (Status.OPERATING, "2028")],
            "barrick",
        ),
        fac("saindak", "Saindak", Stage.MINING, "copper", [(Status.OPERATING, "2003")], "mcc"),
        fac(
            "fwo-ussm-refinery",
            "FWO-USSM polymetallic refinery",
            Stage.SEPARATION,
            "rare-earths",
            [(Status.MOU, "2025-09-08")],
        ),
        fac("pasni-port", "Pasni port (proposal)", Stage.MINING, "copper", [(Status.ANNOUNCED, "2025-10")]),
        fac("no-history", "Site without a dated status", Stage.MINING, "gold", []),
    ]
    ds.deals = [
        Deal(
            id=DealId("ussm-fwo-2025"),
            name="USSM-FWO MoU",
            signed="2025-09-08",
            value=500e6,
            value_unit="US$",
            value_text="about US$500 million (first phase)",
            parties=(
                DealParty(organisation=OrganisationId("ussm"), role="buyer"),
                DealParty(organisation=OrganisationId("fwo"), role="seller"),
            ),
            commodities=(CommodityId("antimony"), CommodityId("rare-earths")),
            status=Status.MOU,
            source_id=S2,
            phases=(
                DealPhase(
                    seq=1,
                    name="Export of available minerals",
                    start="2025-09",
                    end="2026",
                    description="exports through 2026",
                    milestones=(Milestone(date="2025-10-02", description="first shipment", source_id=S2),),
                ),
                DealPhase(
                    seq=2,
                    name="Processing plants and refineries",
                    start="2026",
                    end="2028",
                    description="processing in Pakistan",
                ),
                DealPhase(seq=3, name="Exploration and development", start="2028", description="drilling"),
            ),
        )
    ]
    ds.events = [
        Event(
            id=EventId("cn-sb-2024"),
            kind="export_control",
            name="Antimony export licensing",
            issuer=CountryCode("CHN"),
            announced="2024-08-15",
            start="2024-09-15",
            commodities=(CommodityId("antimony"),),
            source_id=S1,
        ),
        Event(
            id=EventId("cn-oct-2025"),
            kind="export_control",
            name="October 2025 measures",
            issuer=CountryCode("CHN"),
            announced="2025-10-09",
            start="2025-10-09",
            elements=("Ho", "Er"),
            source_id=S2,
        ),
        Event(
            id=EventId("cn-70"),
            kind="suspension",
            name="Announcement No. 70",
            issuer=CountryCode("CHN"),
            start="2025-11-07",
            end="2026-11-10",
            suspends=EventId("cn-oct-2025"),
            source_id=S2,
        ),
        Event(
            id=EventId("cn-future"),
            kind="export_control",
            name="A future measure",
            issuer=CountryCode("CHN"),
            start="2030-01-01",
            source_id=S2,
        ),
        Event(
            id=EventId("us-other"),
            kind="export_control",
            name="Not China",
            issuer=CountryCode("USA"),
            start="2020-01-01",
            source_id=S2,
        ),
    ]
    return ds


@pytest.fixture
def report_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh database holding only the fixture dataset above."""
    store = Store.open(tmp_path / "report.db")
    load_into(store, fixture_dataset())
    yield store
    store.close()
