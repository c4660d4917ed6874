"""The shipped evidence base: it loads with no problems, covers what the data card says, and keeps
published figures as published (including disagreeing vintages and sources)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from orechain.evidence.model import Quality, Stage, Status
from orechain.evidence.shipped import Dataset, load_dataset, shipped_data_dir
from orechain.units import parse_unit


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


def _obs(ds: Dataset, source: str, metric: str, commodity: str, country: str, year: int) -> float | None:
    found = [o for o in ds.observations if (o.source_id, o.metric, o.commodity, o.country, o.year)
             == (source, metric, commodity, country, year)]
    assert len(found) == 1, f"expected one {metric} row for {commodity}/{country}/{year} in {source}, got {len(found)}"
    return found[0].value


def test_loads_with_no_problems(ds: Dataset) -> None:
    # load_dataset raises InputError listing every problem; reaching here means none
    assert ds.sources and ds.observations and ds.facilities and ds.deals and ds.events


def test_at_least_40_facilities_covering_every_stage(ds: Dataset) -> None:
    assert len(ds.facilities) >= 40
    assert {f.stage for f in ds.facilities} == set(Stage)


def test_every_observation_has_a_known_source_and_a_quality(ds: Dataset) -> None:
    sources = {s.id for s in ds.sources}
    for o in ds.observations:
        assert o.source_id in sources
        assert isinstance(o.quality, Quality)
        assert o.value is not None or o.lower is not None or o.value_text, f"{o.id} carries no figure at all"


def test_every_unit_parses(ds: Dataset) -> None:
    for o in ds.observations:
        parse_unit(o.unit)
    for f in ds.facilities:
        if f.capacity_unit:
            parse_unit(f.capacity_unit)
    for fm in ds.forms:
        parse_unit(fm.unit)


def test_usgs_figures_as_published(ds: Dataset) -> None:
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "rare-earths", "CHN", 2023) == 240_000
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "rare-earths", "WLD", 2023) == 350_000
    assert _obs(ds, "usgs-mcs-2025-ree", "mine_production", "rare-earths", "CHN", 2024) == 270_000
    assert _obs(ds, "usgs-mcs-2025-ree", "mine_production", "rare-earths", "WLD", 2024) == 390_000
    assert _obs(ds, "usgs-mcs-2023", "mine_production", "rare-earths", "CHN", 2022) == 210_000
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "antimony", "PAK", 2023) == 80
    assert _obs(ds, "usgs-mcs-2024", "reserves", "antimony", "PAK", 2023) == 26_000
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "tungsten", "CHN", 2023) == 63_000
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "tungsten", "WLD", 2023) == 78_000


def test_usgs_rows_are_primary_and_keep_footnotes(ds: Dataset) -> None:
    usgs = [o for o in ds.observations if o.source_id in ("usgs-mcs-2023", "usgs-mcs-2024", "usgs-mcs-2025-ree")
            and o.metric in ("mine_production", "reserves", "price")]
    assert len(usgs) > 300 and all(o.quality is Quality.PRIMARY for o in usgs)
    # shares computed from those tables are not printed by USGS, so they may not be primary
    derived = [o for o in ds.observations if o.source_id == "usgs-mcs-2025-ree" and o.metric == "stage_share"]
    assert derived and all(o.quality is not Quality.PRIMARY and "computed" in (o.note or "").lower() for o in derived)
    china = [o for o in usgs if o.country == "CHN" and o.metric == "mine_production" and o.commodity == "rare-earths"]
    assert china and all(o.note and "quota" in o.note.lower() for o in china)


def test_world_reserves_given_as_a_bound_keep_the_published_text(ds: Dataset) -> None:
    (world,) = [o for o in ds.observations if (o.source_id, o.metric, o.country) ==
                ("usgs-mcs-2025-ree", "reserves", "WLD")]
    assert world.value is None and world.lower == 90_000_000 and world.value_text == ">90,000,000"


def test_chinas_2024_share_from_the_shipped_mcs2025_rows() -> None:
    ds = load_dataset()
    china = _obs(ds, "usgs-mcs-2025-ree", "mine_production", "rare-earths", "CHN", 2024)
    world = _obs(ds, "usgs-mcs-2025-ree", "mine_production", "rare-earths", "WLD", 2024)
    assert china is not None and world is not None
    assert 100 * china / world == pytest.approx(69, abs=0.5)


def test_mcs2025_country_rows_add_up_to_the_rounded_world_total(ds: Dataset) -> None:
    for year in (2023, 2024):
        rows = [o for o in ds.observations if (o.source_id, o.metric, o.year) ==
                ("usgs-mcs-2025-ree", "mine_production", year)]
        parts = sum(o.value or 0 for o in rows if o.country != "WLD")
        world = next(o.value for o in rows if o.country == "WLD")
        assert world is not None
        # the world total is rounded to two significant figures: 2024 parts sum to 393,950 against 390,000
        assert abs(parts - world) / world < 0.02, (year, parts, world)


def test_disagreeing_vintages_and_sources_are_both_kept(ds: Dataset) -> None:
    assert _obs(ds, "usgs-mcs-2024", "mine_production", "rare-earths", "CHN", 2023) == 240_000
    assert _obs(ds, "usgs-mcs-2025-ree", "mine_production", "rare-earths", "CHN", 2023) == 255_000
    groups: dict[tuple[object, ...], set[float]] = defaultdict(set)
    for o in ds.observations:
        if o.value is not None:
            groups[(o.metric, o.commodity, o.stage, o.form, o.country, o.facility, o.year)].add(o.value)
    disagreements = [k for k, values in groups.items() if len(values) > 1]
    assert len(disagreements) >= 10
    shares = {o.value for o in ds.observations if (o.metric, o.stage, o.country, o.year) ==
              ("stage_share", Stage.MINING, "CHN", 2023)}
    assert shares == {62, 68}


def test_no_secondary_figure_is_marked_primary(ds: Dataset) -> None:
    secondary_kinds = {"news", "price_assessment"}
    kind = {s.id: s.kind.value for s in ds.sources}
    for o in ds.observations:
        if kind[o.source_id] in secondary_kinds:
            assert o.quality is not Quality.PRIMARY, o


def test_recalled_figures_are_unconfirmed(ds: Dataset) -> None:
    recalled = [o for o in ds.observations if o.source_id == "usgs-mcs-2025"]
    assert {o.commodity for o in recalled} == {"copper", "lithium", "cobalt", "graphite", "nickel"}
    for o in recalled:
        assert o.quality is Quality.UNCONFIRMED and o.note and "cross-check before citing" in o.note
    for commodity in ("copper", "lithium", "cobalt", "graphite", "nickel"):
        countries = {o.country for o in ds.observations
                     if (o.metric, o.commodity, o.year) == ("mine_production", commodity, 2024)}
        assert "WLD" in countries and len(countries - {"WLD"}) >= 5


def test_coverage_of_mine_production_years(ds: Dataset) -> None:
    years: dict[str, set[int]] = defaultdict(set)
    for o in ds.observations:
        if o.metric == "mine_production" and o.year is not None and o.country not in ("WLD", "OTH"):
            years[o.commodity].add(o.year)
    assert {2022, 2023, 2024} <= years["rare-earths"]
    assert {2021, 2022, 2023} <= years["antimony"]
    assert {2021, 2022, 2023} <= years["tungsten"]


def test_pakistani_sites_and_the_facts_table_plants_are_present(ds: Dataset) -> None:
    ids = {f.id for f in ds.facilities}
    for fid in ("reko-diq-mine", "saindak-mine", "fwo-ussm-polymetallic-refinery", "bayan-obo-mine",
                "cnre-baotou-separation", "ganzhou-ion-adsorption-mines", "kachin-ion-adsorption-mines",
                "lynas-kuantan-separation", "lynas-mt-weld-mine", "lynas-seadrift", "mp-mountain-pass-mine",
                "mp-mountain-pass-separation", "mp-independence-metal", "mp-independence-magnet", "mp-10x-magnet",
                "solvay-la-rochelle", "neo-silmet-separation", "neo-narva-magnet", "evac-sumter-magnet",
                "usar-stillwater-magnet", "noveon-san-marcos-magnet", "iluka-eneabba-refinery",
                "energy-fuels-white-mesa"):
        assert fid in ids, fid
    fac = {f.id: f for f in ds.facilities}
    assert fac["fwo-ussm-polymetallic-refinery"].status is Status.MOU
    assert fac["mp-mountain-pass-mine"].site == fac["mp-mountain-pass-separation"].site


def test_chinese_control_of_plants_abroad_is_attributable(ds: Dataset) -> None:
    org_country = {o.id: o.country for o in ds.organisations}
    saindak = next(f for f in ds.facilities if f.id == "saindak-mine")
    assert saindak.country == "PAK"
    assert any(org_country[o.organisation] == "CHN" for o in saindak.owners)
    assert any(ow.owner == "shenghe" and ow.owned == "mp-materials" for ow in ds.ownership)


def test_conflicting_capacities_are_observations_beside_the_facility(ds: Dataset) -> None:
    eneabba = next(f for f in ds.facilities if f.id == "iluka-eneabba-refinery")
    assert eneabba.capacity is not None
    caps = [o for o in ds.observations if o.metric == "capacity" and o.facility == "iluka-eneabba-refinery"]
    # two sources, two figures: neither is averaged away, and the facility shows the lower one
    assert len({o.source_id for o in caps}) == len(caps) == 2
    assert {(o.lower, o.upper) for o in caps} == {(12_100, 18_400), (None, 23_000)}
    assert eneabba.capacity == 12_100


def test_export_control_suspension(ds: Dataset) -> None:
    ev = {e.id: e for e in ds.events}
    susp = [e for e in ds.events if e.suspends is not None]
    assert susp
    nov = next(e for e in susp if e.announced == "2025-11-07")
    assert nov.end == "2026-11-10"
    assert ev[nov.suspends or ""].start == "2025-10-09" or ev[nov.suspends or ""].announced == "2025-10-09"


def test_ussm_fwo_deal_has_three_phases_and_the_first_shipment(ds: Dataset) -> None:
    deal = next(d for d in ds.deals if d.id == "ussm-fwo-2025")
    assert deal.signed == "2025-09-08" and deal.value == 500 and deal.status is Status.MOU
    assert [p.seq for p in deal.phases] == [1, 2, 3]
    assert any(m.date == "2025-10-02" for p in deal.phases for m in p.milestones)


def test_wgi_table_is_shipped_unchanged(shared: Path) -> None:
    shipped = (shipped_data_dir() / "wgi_pv.csv").read_bytes()
    assert shipped == (shared / "data" / "wgi" / "wgi_political_stability_pv.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(shipped.decode("utf-8"))))
    assert Counter(r["iso3"] for r in rows)["PAK"] >= 20


def test_wgi_is_attributed(ds: Dataset) -> None:
    src = next(s for s in ds.sources if s.id == "worldbank-wgi-pv")
    assert src.licence == "CC BY 4.0"


def test_shipped_usgs_rows_match_what_the_importer_reads_from_the_real_files(ds: Dataset, shared: Path) -> None:
    """Same ids and figures as importing the real MCS files, so importing them over the shipped base adds
    nothing. (Bounds such as '>1,800,000' are compared on `lower`: the shipped rows leave `value` empty.)"""
    from orechain.evidence.importers.usgs_mcs import parse_salient, parse_world

    folder = shared / "data" / "usgs-mcs"
    imported: dict[str, dict[str, object]] = {}
    for path in sorted(folder.glob("*world.csv")):
        imported.update({r["id"]: r for r in parse_world(path)})
    for path in sorted(folder.glob("*salient.csv")):
        imported.update({r["id"]: r for r in parse_salient(path)})
    shipped = [o for o in ds.observations if o.source_id in ("usgs-mcs-2022", "usgs-mcs-2023", "usgs-mcs-2024")]
    assert len(shipped) > 350
    for o in shipped:
        assert o.id in imported, (o.source_id, o.metric, o.commodity, o.country, o.year)
        row = imported[o.id]
        if o.value is not None:
            assert row["value"] == o.value, (o.source_id, o.metric, o.commodity, o.country, o.year)
        else:
            assert row["lower"] == o.lower, (o.source_id, o.metric, o.commodity, o.country, o.year)


def test_only_the_listed_facilities_still_rest_on_recall(ds: Dataset) -> None:
    """The data card lists the facilities whose existence or location still rests on recall; each says so."""
    recalled = {f.id: f for f in ds.facilities if f.source_id == "company-websites-recalled"}
    assert set(recalled) == {"ningbo-yunsheng-magnet", "shin-etsu-takefu-separation", "proterial-kumagaya-magnet"}
    assert all("unconfirmed" in (f.notes or "") for f in recalled.values())


def test_wealth_claims_are_claims_and_grades_are_not_ore(ds: Dataset) -> None:
    claims = [o for o in ds.observations if o.metric == "mineral_wealth_claim"]
    assert {o.value for o in claims if o.value is not None} >= {6, 6.1, 8}
    assert all(o.quality is Quality.UNCONFIRMED for o in claims)
    (ree,) = [o for o in ds.observations if o.metric == "stream_sediment_ree" and o.country == "PAK"]
    assert (ree.lower, ree.upper, ree.unit) == (10.22, 1403.1, "mg/kg") and ree.quality is Quality.SECONDARY


def test_every_producing_rare_earth_facility_has_a_capacity_or_a_stated_gap(ds: Dataset) -> None:
    """Operating/commissioning rare-earth facilities carry a sourced capacity, are members of a national
    aggregate (CHN plants: the aggregate counts them), or are one of the listed gaps whose notes say none was
    found. The network reports the gaps (orechain trace --show missing); this list must only shrink."""
    import pandas as pd

    from orechain.analytics.network import aggregate_facilities

    agg = aggregate_facilities("rare-earths")
    fac = {f.id: f for f in ds.facilities}
    for a in agg.itertuples():
        f = fac[str(a.aggregate)]
        assert (f.country, f.stage.value, f.commodity) == (a.country, a.stage, a.commodity)
        assert f.capacity and f.capacity_source_id and "NATIONAL AGGREGATE" in (f.notes or "")
    members = {(str(a.country), str(a.stage)) for a in agg.itertuples()}
    gaps = {"irel-chavara-mine", "shin-etsu-takefu-separation", "mp-independence-metal", "proterial-kumagaya-magnet",
            "vac-hanau-magnet"}
    producing = [f for f in ds.facilities if f.commodity == "rare-earths"
                 and f.status in (Status.OPERATING, Status.COMMISSIONING)]
    missing = {f.id for f in producing if f.capacity is None and (f.country, f.stage.value) not in members}
    assert missing == gaps
    assert all("No capacity found" in (fac[g].notes or "") or "No metal capacity found" in (fac[g].notes or "")
               for g in gaps)
    assert pd.Series([f.capacity_source_id for f in producing if f.capacity is not None]).notna().all()
