"""What a run tells: fan charts, probabilities of reaching a level by a year, time to impact, capacity online
by project, the benchmark, and a plain-language summary. Built from an :class:`Aggregate` (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from orechain.scenarios.backends import Backend, execute
from orechain.scenarios.engine import BLOCK_SIZE, Aggregate, Model, compile_model
from orechain.scenarios.spec import Scenario

__all__ = ["QUANTILES", "Result", "simulate"]

QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
_QCOLS = ["p5", "p25", "p50", "p75", "p95"]
METRICS = {
    "flow": "independent-chain capacity",
    "demand": "demand",
    "ratio": "supply/demand ratio",
    "share_free": "share of demand free of excluded countries",
    "impact_flow": "impact-chain capacity",
    "bench_max_share": "largest third-country share (worst stage)",
}


@dataclass
class Result:
    model: Model
    agg: Aggregate
    seed: int
    backend: str
    block_size: int
    tornado: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.model.scenario

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.model.years]

    def fan(self, metric: str = "flow") -> pd.DataFrame:
        """P5/P25/P50/P75/P95 and the mean by year; ``bin_width`` bounds the quantiles' error."""
        h = self.agg.hists[metric]
        q = h.quantiles(QUANTILES)
        df = pd.DataFrame({"metric": metric, "year": self.years, "mean": self.agg.mean(metric)})
        for i, c in enumerate(_QCOLS):
            df[c] = q[i]
        df["bin_width"] = h.width
        return df

    def fans(self) -> pd.DataFrame:
        return pd.concat([self.fan(k) for k in self.agg.hists], ignore_index=True)

    def reach(self) -> pd.DataFrame:
        """P(independent-chain capacity reaches ``value`` at some year up to ``year``), exact counts."""
        rows = []
        for t, (value, year) in enumerate(self.scenario.targets):
            yi = self.years.index(year)
            rows.append({"value": value, "by_year": year, "probability": self.agg.reach[t, yi] / self.agg.n})
        return pd.DataFrame(rows, columns=["value", "by_year", "probability"])

    def time_to_impact(self) -> pd.DataFrame:
        """Distribution of the first year the impact chain delivers at least the threshold ('never' last)."""
        imp = self.scenario.impact
        if imp is None:
            return pd.DataFrame(columns=["year", "probability", "cumulative"])
        p = self.agg.impact_counts / self.agg.n
        labels = [str(y) for y in self.years] + [f"never by {self.scenario.horizon}"]
        cum = np.cumsum(p)
        cum[-1] = np.nan
        return pd.DataFrame({"year": labels, "probability": p, "cumulative": cum})

    def impact_quantile(self, q: float) -> str:
        """The year by which the impact has happened with probability ``q`` ('never' within the horizon)."""
        cum = np.cumsum(self.agg.impact_counts[:-1]) / self.agg.n
        hit = np.nonzero(cum >= q)[0]
        return str(self.years[int(hit[0])]) if len(hit) else f"not by {self.scenario.horizon}"

    def projects(self) -> pd.DataFrame:
        """Capacity online by project and year: mean, quantiles, P(producing)."""
        s = self.scenario
        n_y = len(self.years)
        q = self.agg.project_hist.quantiles(QUANTILES)
        mean = self.agg.mean("capacity")  # (P, Y)
        rows = []
        for j, p in enumerate(s.projects):
            for yi, y in enumerate(self.years):
                col = j * n_y + yi
                row = {"project": p.id, "stage": p.stage, "year": y, "unit": p.unit, "mean": mean[j, yi]}
                row.update({c: q[i, col] for i, c in enumerate(_QCOLS)})
                row["p_producing"] = self.agg.producing[j, yi] / self.agg.n
                rows.append(row)
        return pd.DataFrame(rows)

    def benchmark(self) -> pd.DataFrame:
        b = self.scenario.benchmark
        if b is None:
            return pd.DataFrame(columns=["year", "p_met"])
        fan = self.fan("bench_max_share")
        return pd.DataFrame({"year": self.years, "p_met": self.agg.bench_counts / self.agg.n,
                             "max_share_p50": fan["p50"], "threshold": b.threshold})

    def summary(self) -> list[str]:
        """Plain-language sentences about the run."""
        s = self.scenario
        out = [f"{s.title}: {self.agg.n:,} scenarios, seed {self.seed}, years {self.years[0]}-{self.years[-1]}; "
               f"capacities in {s.unit}."]
        fan = self.fan("flow")
        ratio = self.fan("ratio")["p50"].to_numpy()
        excl = ", ".join(s.excluded) or "no country"
        for y in sorted({self.years[0], min(2030, self.years[-1]), self.years[-1]}):
            i = self.years.index(y)
            p5, p50, p95 = (float(fan[c].iloc[i]) for c in ("p5", "p50", "p95"))
            out.append(f"{y}: capacity of chains free of {excl} for {s.consumer} is {_num(p50)} "
                       f"(median; 90% of scenarios between {_num(p5)} and {_num(p95)}), "
                       f"{float(ratio[i]):.1%} of demand at the median.")
        reach = self.reach()
        for value, year, prob in zip(reach["value"], reach["by_year"], reach["probability"], strict=True):
            out.append(f"Probability that independent capacity reaches {_num(float(value))} by {int(year)}: "
                       f"{float(prob):.0%}.")
        if s.impact is not None:
            p_by = 1 - self.agg.impact_counts[-1] / self.agg.n
            line = (f"Time to impact: {s.impact.name} delivers at least {_num(s.impact.threshold)} {s.unit} by "
                    f"{s.horizon} in {p_by:.1%} of scenarios")
            q10, q50 = self.impact_quantile(0.1), self.impact_quantile(0.5)
            if q50.isdigit():
                line += f"; the median first year is {q50}"
            if q10.isdigit():
                line += f"; in the earliest 10% of scenarios by {q10}"
            out.append(line + ".")
        if s.benchmark is not None:
            b = s.benchmark
            yi = self.years.index(b.year)
            out.append(f"{b.name}: probability that no single third country exceeds {b.threshold:.0%} at any stage "
                       f"in {b.year}: {self.agg.bench_counts[yi] / self.agg.n:.0%}.")
        if self.tornado is not None and len(self.tornado):
            top = self.tornado.iloc[0]
            out.append(f"The input that moves the {top['metric']} most is {top['input']} "
                       f"({top['low']:.3g} to {top['high']:.3g} around {top['base']:.3g}).")
        return out

    def to_dict(self) -> dict[str, Any]:
        from orechain.interfaces.output import records

        return {
            "scenario": self.scenario.name, "title": self.scenario.title, "unit": self.scenario.unit,
            "scenarios": self.agg.n, "seed": self.seed, "backend": self.backend, "block_size": self.block_size,
            "summary": self.summary(), "fan": records(self.fans()), "reach": records(self.reach()),
            "time_to_impact": records(self.time_to_impact()), "benchmark": records(self.benchmark()),
            "tornado": records(self.tornado) if self.tornado is not None else [],
            "projects": records(self.projects()),
        }

    def long_table(self) -> pd.DataFrame:
        """Every result as one tidy table: section, metric, key, year, statistic, value."""
        parts = []
        fans = self.fans().melt(id_vars=["metric", "year"], var_name="statistic", value_name="value")
        fans.insert(0, "section", "fan")
        parts.append(fans)
        for r in self.reach().itertuples():
            parts.append(pd.DataFrame([{"section": "reach", "metric": "flow", "key": f">= {r.value:g}",
                                        "year": r.by_year, "statistic": "probability", "value": r.probability}]))
        tti = self.time_to_impact()
        if len(tti):
            parts.append(pd.DataFrame({"section": "time_to_impact", "metric": "impact_flow", "key": tti["year"],
                                       "statistic": "probability", "value": tti["probability"]}))
        bench = self.benchmark()
        if len(bench):
            parts.append(pd.DataFrame({"section": "benchmark", "metric": "p_met", "year": bench["year"],
                                       "statistic": "probability", "value": bench["p_met"]}))
        if self.tornado is not None and len(self.tornado):
            t = self.tornado.melt(id_vars=["input", "metric"], value_vars=["low", "high", "base"],
                                  var_name="statistic", value_name="value").rename(columns={"input": "key"})
            t.insert(0, "section", "tornado")
            parts.append(t)
        proj = self.projects().melt(id_vars=["project", "year"], value_vars=["mean", *_QCOLS, "p_producing"],
                                    var_name="statistic", value_name="value").rename(columns={"project": "key"})
        proj.insert(0, "section", "project_capacity")
        proj["metric"] = "capacity"
        parts.append(proj)
        df = pd.concat(parts, ignore_index=True)
        return df[["section", "metric", "key", "year", "statistic", "value"]]


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def simulate(scenario: Scenario, scenarios: int = 100_000, seed: int = 1, backend: Backend | str = Backend.NUMPY, *,
             block_size: int = BLOCK_SIZE, scheduler: str | None = None, workers: int | None = None,
             targets: list[tuple[float, int]] | None = None, tornado: bool = False,
             progress: Callable[[int], None] | None = None) -> Result:
    """Compile and run a scenario; ``targets`` adds (value, year) pairs to those in the file."""
    if targets:
        scenario = replace(scenario, targets=scenario.targets + tuple(targets))
    model = compile_model(scenario)
    agg = execute(model, scenarios, seed, backend, block_size=block_size, scheduler=scheduler, workers=workers,
                  progress=progress)
    result = Result(model, agg, seed, str(Backend(backend)), block_size)
    if tornado:
        from orechain.scenarios.sensitivity import tornado as run_tornado

        result.tornado = run_tornado(model, seed)
    return result
