"""Analytics endpoints: country shares and concentration (HHI) of production, per source.

The maths are :mod:`orechain.analytics.concentration`'s; this module only reads the observations and
shapes the answer. Each source's figures are computed apart (disagreeing sources are not mixed), and rows
without a number (withheld, "W") are counted in ``rows_without_value``, not silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response

from orechain.analytics.concentration import concentration, shares
from orechain.analytics.errors import AnalyticsInputError
from orechain.evidence import queries
from orechain.interfaces.api.common import context, listing
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import ListBody, Page, page_params

__all__ = ["router"]

router = APIRouter(responses={422: {"model": ErrorBody, "description": "bad parameter or unusable input"}})
PageDep = Annotated[Page, Depends(page_params)]
BY = ["commodity", "year", "source_id"]


def _production(request: Request, commodity: str | None, year: int | None, metric: str) -> tuple[pd.DataFrame,
                                                                                                 pd.DataFrame]:
    from orechain.interfaces.api.routers.evidence import _commodity

    store = context(request).store
    df = queries.production(store, commodity=_commodity(store, commodity), year=year, metric=metric)
    df = df[df["year"].notna()]
    missing = df[df["value"].isna()].groupby(BY, dropna=False).size().rename("rows_without_value")
    quality = df.groupby(BY, dropna=False)["quality"].agg(lambda q: " ".join(sorted(set(q)))).rename("quality")
    return df[df["value"].notna()], pd.concat([missing, quality], axis=1).reset_index()


def _analyse(fn: Any, df: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=[*BY, "country", "share"])
    try:
        out: pd.DataFrame = fn(df, by=BY)
    except AnalyticsInputError as exc:
        raise ApiError(422, str(exc)) from None
    out = out.merge(extra, on=BY, how="outer")  # a group with no number at all still shows, with its count
    out["rows_without_value"] = out["rows_without_value"].fillna(0).astype(int)
    return out


Metric = Annotated[str, Query(max_length=80, description="mine_production or reserves")]


@router.get("/analytics/shares", response_model=ListBody, summary="Country shares of production, per source")
async def get_shares(request: Request, page: PageDep, commodity: Annotated[str | None, Query()] = None,
                     year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
                     metric: Metric = "mine_production") -> Response:
    def build() -> pd.DataFrame:
        df, extra = _production(request, commodity, year, metric)
        return _analyse(shares, df, extra)
    return await listing(request, page, build)


@router.get("/analytics/hhi", response_model=ListBody,
            summary="Concentration of production: HHI, top-3 share and leader, per commodity, year and source")
async def get_hhi(request: Request, page: PageDep, commodity: Annotated[str | None, Query()] = None,
                  year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
                  metric: Metric = "mine_production") -> Response:
    def build() -> pd.DataFrame:
        df, extra = _production(request, commodity, year, metric)
        return _analyse(concentration, df, extra)
    return await listing(request, page, build)
