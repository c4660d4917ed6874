"""Resumable folder ingest: a large generated folder, ingest killed with SIGKILL mid-way, then re-run.

Checks (each an assertion): the re-run exits 0; it skips exactly the files the killed run committed
(``resumed``) and redoes the batch that was in flight; every distinct text is one document (the folder
holds deliberate copies under other names); no file has two progress rows and no claim is stored twice;
the claims of a sample of documents equal a fresh extraction; a third run over the finished folder adds
nothing. Figures: generation time, the killed run's and the re-run's wall and CPU time, files per second,
peak memory of the ingest processes and the database size.

Articles are generated from the same sentences as bench_claims_extract.py but shorter (``--words``,
default 200) so that 100,000 of them fit the time this benchmark has on a shared machine; the resume
logic does not depend on article length.

Run: .venv/bin/python benchmarks/bench_claims_resume.py [--n 100000] [--words 200] [--kill-at 0.5]
     [--dir /tmp/orechain_resume_bench] [--batch-size 200] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench_claims_extract import articles

from orechain.claims.extract import extract_claims
from orechain.claims.ingest import document_id
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store


def generate(folder: Path, n: int, words: int, copy_every: int) -> dict[str, str]:
    """Write ``n`` files (1,000 per subfolder); every ``copy_every``-th is a copy of the one before.
    Returns document id -> text of every distinct article."""
    texts: dict[str, str] = {}
    gen = articles(n, seed=7, length=words)
    prev = ""
    for i in range(n):
        body = next(gen)
        text = prev if (copy_every and i % copy_every == copy_every - 1 and prev) else \
            f"Generated article {i}\n{body}\n"
        sub = folder / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:06d}.txt").write_text(text, encoding="utf-8")
        texts[document_id(text)] = text
        prev = text
    return texts


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "orechain"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "orechain.interfaces.cli"]


def _summary(out: str) -> dict[str, int]:
    line = [ln for ln in out.splitlines() if "file(s):" in ln][-1]
    counts = {k: int(v) for v, k in ((m.group(2), m.group(1)) for m in re.finditer(r"(\w+) (\d+)", line))}
    claims = re.search(r"(\d+) claims added", line)
    counts["claims_added"] = int(claims.group(1)) if claims else 0
    return counts


def _children() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--kill-at", type=float, default=0.5, help="kill when this share of files is committed")
    ap.add_argument("--copy-every", type=int, default=50, help="every k-th file repeats the one before")
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/orechain_resume_bench"))
    ap.add_argument("--keep", action="store_true", help="keep the folder and database afterwards")
    args = ap.parse_args()

    if args.dir.exists():
        shutil.rmtree(args.dir)
    folder, db = args.dir / "articles", args.dir / "ledger.db"
    t0 = time.perf_counter()
    texts = generate(folder, args.n, args.words, args.copy_every)
    gen_s = time.perf_counter() - t0
    size_mb = sum(f.stat().st_size for f in folder.rglob("*.txt")) / 1e6
    print(f"generated {args.n} files ({len(texts)} distinct texts, {size_mb:.0f} MB) in {gen_s:.0f} s")
    with Store.open(str(db)) as store:  # the evidence base first, so that both runs time the ingest only
        load_into(store)

    cmd = [*_cli(), "claims", "ingest", str(folder), "--db", str(db), "--batch-size", str(args.batch_size)]
    target = int(args.n * args.kill_at)
    cpu0, _ = _children()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    while proc.poll() is None:
        time.sleep(0.5)
        try:
            done = _count(db, "SELECT count(*) FROM ingest_progress")
        except sqlite3.OperationalError:
            continue  # the table is busy or not there yet
        if done >= target:
            time.sleep(random.Random(1).uniform(0.05, 0.4))  # land inside the next batch, not between two
            os.kill(proc.pid, signal.SIGKILL)
            break
    rc1 = proc.wait()
    wall1 = time.perf_counter() - t0
    cpu1, rss1 = _children()
    assert rc1 == -signal.SIGKILL, f"the first run ended by itself (rc {rc1}) before it could be killed"
    committed = _count(db, "SELECT count(*) FROM ingest_progress")
    docs_killed = _count(db, "SELECT count(*) FROM documents")
    print(f"run 1 killed (SIGKILL) after {wall1:.0f} s wall, {cpu1 - cpu0:.0f} s CPU: {committed} files committed, "
          f"{docs_killed} documents")

    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall2 = time.perf_counter() - t0
    cpu2, rss2 = _children()
    assert res.returncode == 0, res.stderr[-2000:]
    s2 = _summary(res.stdout)
    redone = args.n - s2.get("resumed", 0)
    print(f"run 2 (resumed) {wall2:.0f} s wall, {cpu2 - cpu1:.0f} s CPU for {redone} files "
          f"({redone / wall2:.0f} files/s wall, {redone / (cpu2 - cpu1):.0f} files/s per core CPU): "
          + ", ".join(f"{k} {v}" for k, v in sorted(s2.items())))

    # -- checks ---------------------------------------------------------------------------------------
    assert s2.get("resumed", 0) == committed, (s2, committed)
    n_docs = _count(db, "SELECT count(*) FROM documents")
    assert n_docs == len(texts), f"{n_docs} documents for {len(texts)} distinct texts"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = {r[0] for r in con.execute("SELECT id FROM documents")}
    assert ids == set(texts), f"missing {len(set(texts) - ids)}, unexpected {len(ids - set(texts))}"
    assert _count(db, "SELECT count(*) FROM ingest_progress") == args.n
    assert _count(db, "SELECT count(*) FROM (SELECT path FROM ingest_progress GROUP BY run, path "
                      "HAVING count(*) > 1)") == 0
    assert _count(db, 'SELECT count(*) FROM (SELECT document FROM claims GROUP BY document, start, "end" '
                      "HAVING count(*) > 1)") == 0
    n_claims = _count(db, "SELECT count(*) FROM claims")
    sample = random.Random(3).sample(sorted(texts), min(300, len(texts)))
    for doc in sample:
        stored = con.execute("SELECT count(*) FROM claims WHERE document = ?", (doc,)).fetchone()[0]
        assert stored == len(extract_claims(texts[doc])), doc
    con.close()
    res3 = subprocess.run(cmd, capture_output=True, text=True, check=False)
    s3 = _summary(res3.stdout)
    assert res3.returncode == 0 and s3.get("resumed") == args.n and s3["claims_added"] == 0, s3
    assert _count(db, "SELECT count(*) FROM documents") == n_docs
    print(f"checks passed: {n_docs} documents = distinct texts, {n_claims} claims, none twice; "
          f"sample of {len(sample)} documents matches a fresh extraction; a third run resumed all {args.n} files "
          "and added nothing")
    print(f"peak RSS of an ingest process: {max(rss1, rss2):.0f} MB; database {db.stat().st_size / 1e6:.0f} MB")
    if not args.keep:
        shutil.rmtree(args.dir)


if __name__ == "__main__":
    main()
