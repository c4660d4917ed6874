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
    "impact_flow": "capacity the impact projects add (flow with them - flow without them)",
    "sourced_flow": "impact-sourced capacity (flow when only the impact projects' sources feed the chain)",
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

    def time_to_impact(self, kind: str = "added") -> pd.DataFrame:
        """Distribution of the first year the impact projects reach the threshold ('never' last): ``added``, what
        they add to what reaches the consumer; ``sourced``, the flow their sources alone could feed."""
        imp = self.scenario.impact
        if imp is None:
            return pd.DataFrame(columns=["year", "probability", "cumulative"])
        counts = self.agg.impact_counts if kind == "added" else self.agg.sourced_counts
        p = counts / self.agg.n
        labels = [str(y) for y in self.years] + [f"never by {self.scenario.horizon}"]
        cum = np.cumsum(p)
        cum[-1] = np.nan
        return pd.DataFrame({"year": labels, "probability": p, "cumulative": cum})

    def impact_quantile(self, q: float, kind: str = "added") -> str:
        """The year by which the impact has happened with probability ``q`` ('never' within the horizon)."""
        counts = self.agg.impact_counts if kind == "added" else self.agg.sourced_counts
        cum = np.cumsum(counts[:-1]) / self.agg.n
        hit = np.nonzero(cum >= q)[0]
        return str(self.years[int(hit[0])]) if len(hit) else f"not by {self.scenario.horizon}"

    def projects(self) -> pd.DataFrame:
        """Capacity online by project and year: mean, quantiles, P(producing). Static projects (the same in
        every scenario) have exact values."""
        s, m = self.scenario, self.model
        n_y = len(self.years)
        q = self.agg.project_hist.quantiles(QUANTILES)
        mean = self.agg.mean("capacity")  # (D, Y)
        col_of = {int(j): c for c, j in enumerate(m.dynamic)}
        producing = self.agg.producing_counts(m)
        rows = []
        for j, p in enumerate(s.projects):
            for yi, y in enumerate(self.years):
                row: dict[str, Any] = {"project": p.id, "stage": p.stage, "controlled_by": p.controlled_by,
                                       "status": p.status, "year": y, "unit": p.unit}
                if j in col_of:
                    c = col_of[j] * n_y + yi
                    row["mean"] = mean[col_of[j], yi]
                    row.update({k: q[i, c] for i, k in enumerate(_QCOLS)})
                else:
                    v = float(m.static[j, yi])
                    row["mean"] = v
                    row.update(dict.fromkeys(_QCOLS, v))
                row["p_producing"] = producing[j, yi] / self.agg.n
                rows.append(row)
        return pd.DataFrame(rows)

    def benchmark(self) -> pd.DataFrame:
        b = self.scenario.benchmark
        if b is None:
            return pd.DataFrame(columns=["year", "p_met"])
        fan = self.fan("bench_max_share")
        out = pd.DataFrame({"year": self.years, "p_met": self.agg.bench_counts / self.agg.n,
                            "max_share_p50": fan["p50"], "threshold": b.threshold})
        for st in self.model.bench_stages:
            out[f"{st}_p50"] = self.fan(f"bench_share_{st}")["p50"].to_numpy()
        return out

    def summary(self) -> list[str]:
        """Plain-language sentences about the run."""
        s = self.scenario
        out = [f"{s.title}: {self.agg.n:,} scenarios, seed {self.seed}, years {self.years[0]}-{self.years[-1]}; "
               f"capacities in {s.unit}."]
        excl = ", ".join(s.excluded) or "no country"
        if s.present is not None:
            pd_ = s.present
            upper = "" if pd_.upper == pd_.value else (
                f" (upper bound {_num(pd_.upper)} with the {len(pd_.missing)} facilities without a capacity "
                "unlimited)")
            out.append(f"Present-day check (orechain trace, facilities producing now): independent capacity free of "
                       f"{excl} {_num(pd_.value)}{upper}, bottleneck stage {pd_.bottleneck}.")
        fan = self.fan("flow")
        ratio = self.fan("ratio")["p50"].to_numpy()
        for y in sorted({self.years[0], min(2030, self.years[-1]), min(2035, self.years[-1]), self.years[-1]}):
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
            out += self._impact_lines()
        if s.benchmark is not None:
            b = s.benchmark
            yi = self.years.index(b.year)
            bench = self.benchmark()
            worst = {st: float(bench[f"{st}_p50"].iloc[yi]) for st in self.model.bench_stages}
            detail = ", ".join(f"{st} {v:.0%}" for st, v in worst.items())
            out.append(f"{b.name}: probability that no single third country exceeds {b.threshold:.0%} at any stage "
                       f"in {b.year}: {self.agg.bench_counts[yi] / self.agg.n:.0%} (median largest third-country "
                       f"share by stage: {detail}).")
        if self.tornado is not None and len(self.tornado):
            for metric, t in self.tornado.groupby("metric", sort=False):
                top = t.iloc[0]
                if top["swing"] > 0:
                    out.append(f"The input that moves the {metric} most is {top['input']} "
                               f"({top['low']:.3g} to {top['high']:.3g} around {top['base']:.3g}).")
                else:
                    out.append(f"No input moves the {metric} ({top['base']:.3g}).")
        return out

    def _impact_lines(self) -> list[str]:
        s = self.scenario
        imp = s.impact
        assert imp is not None
        out = []
        added, sourced = self.fan("impact_flow"), self.fan("sourced_flow")
        kinds = [("added", added, "added to what reaches the consumer")]
        if "sourced" in self.model.nets:
            kinds.append(("sourced", sourced, "deliverable from their own sources alone, through the real chain"))
        for kind, fan, what in kinds:
            counts = self.agg.impact_counts if kind == "added" else self.agg.sourced_counts
            p_by = 1 - counts[-1] / self.agg.n
            line = (f"Time to impact of {imp.name}, {what}: at least {_num(imp.threshold)} {s.unit} by {s.horizon} "
                    f"in {p_by:.1%} of scenarios")
            q10, q50 = self.impact_quantile(0.1, kind), self.impact_quantile(0.5, kind)
            if q50.isdigit():
                line += f"; the median first year is {q50}"
            if q10.isdigit():
                line += f"; in the earliest 10% of scenarios by {q10}"
            mx = float(fan["p95"].max())
            line += f"; its P95 peaks at {_num(mx)}" if mx > 0 else "; it is 0 in 95% of scenarios every year"
            out.append(line + ".")
        if float(added["p95"].max()) == 0:
            where = f" (today: {s.present.bottleneck})" if s.present is not None and s.present.bottleneck else ""
            line = (f"Nothing is added by {imp.name} in at least 95% of scenarios because the chain's binding "
                    f"stage{where} is not one these projects relieve")
            if len(kinds) > 1 and float(sourced["p95"].max()) > 0:
                line += ("; their material could reach the consumer only by displacing other independent feed (the "
                         "'deliverable from their own sources' figure)")
            out.append(line + ".")
        return out

    def to_dict(self) -> dict[str, Any]:
        from orechain.interfaces.output import records

        return {
            "scenario": self.scenario.name, "title": self.scenario.title, "unit": self.scenario.unit,
            "scenarios": self.agg.n, "seed": self.seed, "backend": self.backend, "block_size": self.block_size,
            "summary": self.summary(), "fan": records(self.fans()), "reach": records(self.reach()),
            "time_to_impact": records(self.time_to_impact()),
            "time_to_impact_sourced": records(self.time_to_impact("sourced")),
            "present_day": _present(self.scenario),
            "notes": list(self.scenario.notes), "benchmark": records(self.benchmark()),
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
        for kind, metric in (("added", "impact_flow"), ("sourced", "sourced_flow")):
            tti = self.time_to_impact(kind)
            if len(tti):
                parts.append(pd.DataFrame({"section": f"time_to_impact_{kind}", "metric": metric, "key": tti["year"],
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


def _present(s: Scenario) -> dict[str, Any] | None:
    p = s.present
    if p is None:
        return None
    return {"independent_capacity": p.value, "upper_bound": p.upper, "bottleneck": p.bottleneck,
            "without_capacity": list(p.missing), "aggregated_rows": p.aggregated}


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
