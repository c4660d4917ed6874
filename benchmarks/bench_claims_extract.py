"""Claims extraction throughput on generated ~1,000-word articles, one core, with memory sampled as it runs.

Target (issue 5): at least 200 articles per second per core on a generated corpus of 10,000 articles, with
flat memory. Articles are generated on the fly (seeded) from domain sentences and filler, so the corpus
never sits in memory. No peer is timed: no offline claim extractor is installed in the environment.

Only the extraction calls are timed (article generation is not). The machine is shared, so CPU time per
core is the figure to quote; wall time is printed beside it. ``--against REV`` runs the same articles
through the package as it was at a git revision, in a subprocess, for a side-by-side ratio.

``--mix real`` builds the articles from real sentences instead (the corpus articles' and the unseen-style
test sentences), which have more entities and clauses per sentence than the templates.

Run: .venv/bin/python benchmarks/bench_claims_extract.py [--n 10000] [--mix generated|real]
     [--against 8d0c528 --against-n 1000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


def _assemble(rng: random.Random, sentence: Callable[[], str], length: int) -> str:
    """Sentences from ``sentence()`` until ``length`` words, with a line break after about one in seven."""
    parts: list[str] = []
    words = 0
    while words < length:
        s = sentence()
        parts.append(s)
        words += len(s.split())
        if rng.random() < 0.15:
            parts.append("\n")
    return " ".join(parts)


def articles(n: int, seed: int = 20251008, length: int = 1000) -> Iterator[str]:
    """``n`` seeded articles of about ``length`` words: 20% claim sentences, the rest filler."""
    rng = random.Random(seed)

    def sentence() -> str:
        if rng.random() < 0.2:
            return rng.choice(CLAIMS).format(n=rng.randint(1, 90), p=rng.randint(50, 99), g=rng.randint(100, 9000),
                                             d=rng.randint(10, 300), b=rng.randint(1, 9), q=rng.randint(1, 9),
                                             t=rng.randint(1000, 20000))
        return rng.choice(FILLER)

    for _ in range(n):
        yield _assemble(rng, sentence, length)


def real_mix(n: int, seed: int = 5, length: int = 1000) -> Iterator[str]:
    """``n`` articles of about ``length`` words made of real sentences: every sentence of the three corpus
    articles (repaired as ingest repairs them) and the unseen-style test sentences, drawn at random."""
    from orechain.claims.extract import split_sentences
    from orechain.claims.ingest import read_document

    root = Path(__file__).resolve().parent.parent
    pool: list[str] = []
    for p in sorted((root.parent / "shared" / "corpus").glob("*.txt")):
        text = read_document(p).text
        pool.extend(text[a:b] for a, b in split_sentences(text))
    gold = root / "tests" / "claims" / "gold" / "extra_sentences.jsonl"
    pool.extend(json.loads(line)["sentence"] for line in gold.read_text(encoding="utf-8").splitlines() if line)
    rng = random.Random(seed)
    for _ in range(n):
        yield _assemble(rng, lambda: rng.choice(pool), length)


def run(n: int, mix: str = "generated") -> dict[str, Any]:
    """Extract from ``n`` generated articles; CPU and wall time are summed over the extraction calls only."""
    names = shipped_names()
    extract_claims("Warm-up: Pakistan's minerals are worth $6 trillion.", names)
    rss: list[float] = []
    total_claims = words = 0
    cpu = wall = 0.0
    for i, text in enumerate(articles(n) if mix == "generated" else real_mix(n)):
        c0, t0 = time.process_time(), time.perf_counter()
        total_claims += len(extract_claims(text, names))
        cpu += time.process_time() - c0
        wall += time.perf_counter() - t0
        words += len(text.split())
        if i % max(1, n // 10) == 0:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"n": n, "words": words / n, "claims": total_claims, "cpu": cpu, "wall": wall, "rss": rss}


def _against(rev: str, n: int, mix: str) -> dict[str, Any]:
    """The same run with the package as it was at git revision ``rev`` (in a subprocess, same generator)."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(root), "archive", rev, "src/orechain"], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": f"{tmp}/src"}
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import orechain, bench_claims_extract as b; "
                "assert orechain.__file__.startswith(sys.argv[2]), orechain.__file__; "
                "print(json.dumps(b.run(int(sys.argv[3]), sys.argv[4])))")
        out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), tmp, str(n), mix], env=env,
                             check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _line(label: str, r: dict[str, Any]) -> str:
    n, cpu, wall = float(r["n"]), float(r["cpu"]), float(r["wall"])
    return (f"{label}: {n:.0f} articles (mean {float(r['words']):.0f} words, {float(r['claims']):.0f} claims): "
            f"CPU {cpu:.1f} s -> {n / cpu:.0f} articles/s per core; wall {wall:.1f} s -> {n / wall:.0f} articles/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--mix", choices=["generated", "real"], default="generated",
                    help="generated: template claim sentences and filler; real: sentences of the corpus articles "
                         "and the unseen-style test sentences")
    ap.add_argument("--against", metavar="REV", help="also run the extractor as of this git revision (e.g. 8d0c528)")
    ap.add_argument("--against-n", type=int, default=1_000, help="articles for the --against run")
    args = ap.parse_args()
    r = run(args.n, args.mix)
    print(f"mix: {args.mix}")
    print(_line("this tree", r) + " (target >= 200 per core)")
    print("peak RSS by tenth of the run (MB): " + ", ".join(f"{x:.0f}" for x in r["rss"]))
    if args.against:
        now = run(args.against_n, args.mix) if args.against_n != args.n else r
        old = _against(args.against, args.against_n, args.mix)
        print(_line("this tree", now))
        print(_line(f"at {args.against}", old))
        ratio = (float(old["cpu"]) / float(old["n"])) / (float(now["cpu"]) / float(now["n"]))
        print(f"CPU-time speed-up over {args.against}: {ratio:.2f}x (same generator, same articles)")


if __name__ == "__main__":
    main()
