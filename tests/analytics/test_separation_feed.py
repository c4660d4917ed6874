"""inputs.separation_feed: each year's routes read against the production of the source they name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orechain.analytics.concentration import feed_routes, feed_shares
from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.inputs import production_frame, separation_feed
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store.open(Path(tmp_path_factory.mktemp("feed")) / "shipped.db") as store:
        load_into(store)
        yield store


def test_each_year_uses_its_routes_source(shipped: Store) -> None:
    fs, routes, unit = separation_feed(shipped, "rare-earths")
    assert unit == "t REO" and sorted(set(routes["year"])) == sorted(set(fs["year"]))
    for year, src in routes.groupby("year")["mine_source_id"].first().items():
        mine = production_frame(shipped, "rare-earths", source_id=src)
        r = feed_routes("rare-earths")
        want = feed_shares(mine[mine["year"] == year][["year", "country", "value"]], r[r["year"] == year])
        got = fs[fs["year"] == year]
        assert dict(zip(got["country"], got["share"], strict=True)) == dict(
            zip(want["country"], want["share"], strict=True))
        assert set(got["mine_source_id"]) == {src}


def test_one_year_and_unknown_years(shipped: Store) -> None:
    fs, routes, _ = separation_feed(shipped, "rare-earths", [2024])
    assert set(fs["year"]) == {2024} and set(routes["year"]) == {2024}
    with pytest.raises(AnalyticsInputError, match="no feed routes for 1999"):
        separation_feed(shipped, "rare-earths", [1999])
    with pytest.raises(AnalyticsInputError, match="no feed routes for tungsten"):
        separation_feed(shipped, "tungsten")
