"""Claims extraction throughput on generated ~1,000-word articles, one core, with memory sampled as it runs.

Target (issue 5): at least 200 articles per second per core on a generated corpus of 10,000 articles, with
flat memory. Articles are generated on the fly (seeded) from domain sentences and filler, so the corpus
never sits in memory. No peer is timed: no offline claim extractor is installed in the environment.

Run: .venv/bin/python benchmarks/bench_claims_extract.py [--n 10000]
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections.abc import Iterator

from orechain.claims.extract import extract_claims
from orechain.claims.subjects import shipped_names

CLAIMS = [
    "Pakistan's mineral wealth is worth up to ${n} trillion, officials in Islamabad say.",
    "A ${n} million memorandum was signed between US Strategic Metals and the Frontier Works Organisation.",
    "China controls roughly {p}% of global magnet output, according to the IEA.",
    "Samples from Gilgit-Baltistan showed up to {g} mg/kg of rare earths.",
    "The proposed Pasni port is {d} miles from Gwadar and could cost around ${b} billion.",
    "Mining contributes {q} percent to Pakistan's GDP.",
    "Lynas plans {t} tonnes a year of NdPr at Kuantan by 2028.",
    "Experts estimate it would take at least a decade before production begins.",
    "The third phase, from 2026 to 2028, envisions up to ten mining projects.",
]
FILLER = [
    "The government said the plan would bring investment and jobs to the province.",
    "Critics argue that security remains the main obstacle for foreign operators in the region.",
    "Analysts noted that processing capacity outside China is still limited and slow to build.",
    "The opposition demanded that parliament be allowed to review the terms of the agreement.",
    "Officials described the shipment as a milestone for economic cooperation between the two countries.",
    "Industry executives said technology transfer would be essential for any refining project.",
]


def articles(n: int, seed: int = 20251008) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n):
        parts: list[str] = []
        words = 0
        while words < 1000:
            if rng.random() < 0.2:
                s = rng.choice(CLAIMS).format(n=rng.randint(1, 90), p=rng.randint(50, 99), g=rng.randint(100, 9000),
                                              d=rng.randint(10, 300), b=rng.randint(1, 9), q=rng.randint(1, 9),
                                              t=rng.randint(1000, 20000))
            else:
                s = rng.choice(FILLER)
            parts.append(s)
            words += len(s.split())
            if rng.random() < 0.15:
                parts.append("\n")
        yield " ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    names = shipped_names()
    extract_claims("Warm-up: Pakistan's minerals are worth $6 trillion.", names)
    rss: list[float] = []
    total_claims = words = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i, text in enumerate(articles(args.n)):
        total_claims += len(extract_claims(text, names))
        words += len(text.split())
        if i % max(1, args.n // 10) == 0:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"articles: {args.n}, mean words {words / args.n:.0f}, claims {total_claims}")
    print(f"wall {wall:.1f} s -> {args.n / wall:.0f} articles/s; CPU {cpu:.1f} s -> {args.n / cpu:.0f} articles/s "
          f"per core (target >= 200)")
    print("peak RSS by tenth of the run (MB): " + ", ".join(f"{r:.0f}" for r in rss))


if __name__ == "__main__":
    main()
