"""``orechain claims``: ingest articles, list claims, show conflicts, check a sentence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from orechain.interfaces.cli import DbOpt, FormatOpt, OutOpt, err, fail, open_store, out
from orechain.interfaces.output import Format, emit

claims_app = typer.Typer(help="The claims ledger: quantitative claims from articles, grouped, compared, graded.",
                         no_args_is_help=True)

_FAILED = ("binary", "empty", "too_large", "error")
_LIST_COLS = ["doc", "sentence_index", "start", "end", "text", "subject", "value", "unit", "lower", "upper",
              "qualifier", "date", "attribution", "ladder", "independent_sources", "plausibility"]


@claims_app.command("ingest")
def claims_ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (.txt, .md, .html) or folders of them.")],
    title: Annotated[Optional[str], typer.Option(help="Title for every file given (else detected).")] = None,  # noqa: UP045
    date: Annotated[Optional[str], typer.Option(help="Publication date, YYYY-MM-DD (else detected).")] = None,  # noqa: UP045
    publisher: Annotated[Optional[str], typer.Option(help="Publisher (else detected).")] = None,  # noqa: UP045
    max_bytes: Annotated[int, typer.Option(help="Largest file accepted, in bytes.")] = 10 * 1024 * 1024,
    batch_size: Annotated[int, typer.Option(help="Files per transaction (a resumed run redoes at most one).")] = 200,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="One line per file, not just problems.")] = False,
    db: DbOpt = None,
) -> None:
    """Ingest articles: repair the text, detect title/date/publisher, extract and store the claims.

    Idempotent (the same text twice is one document) and resumable: re-running on a folder skips the
    files an earlier, interrupted run finished. Binary, empty and oversized files are reported and skipped;
    text in another language is stored but flagged unsupported and not extracted.

    Examples:
      orechain claims ingest ../shared/corpus
      orechain claims ingest article.html --publisher Dawn --date 2025-10-03
    """
    from orechain.claims.ingest import ingest_paths

    store = open_store(db)
    counts: Counter[str] = Counter()
    n_claims = 0
    try:
        for r in ingest_paths(store, paths, max_bytes=max_bytes, title=title, date=date, publisher=publisher,
                              batch_size=batch_size):
            counts[r.status] += 1
            n_claims += r.claims if r.status == "added" else 0
            if r.status in _FAILED or r.status in ("skipped", "unsupported_language"):
                err.print(f"{r.status}: {r.message}", markup=False, highlight=False)
            elif verbose:
                out.print(f"{r.status}: {r.path} ({r.claims} claims) {r.message}", markup=False, highlight=False)
    except ValueError as exc:
        raise fail(exc) from exc
    out.print(f"{sum(counts.values())} file(s): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
              + f"; {n_claims} claims added")
    if any(counts[s] for s in _FAILED):
        raise typer.Exit(1)


def _graded(db: str | None, subject: str | None = None) -> pd.DataFrame:
    from orechain.claims import ledger

    store = open_store(db)
    return ledger.grade(ledger.claims_frame(store, subject))


@claims_app.command("list")
def claims_list(
    subject: Annotated[Optional[str], typer.Option(help="Only this subject key, e.g. 'PAK/total mineral wealth/value'.")] = None,  # noqa: UP045,E501
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Every claim with its document, span, subject, value, bounds, date and grade.

    JSONL/CSV records carry doc, sentence, start, end, subject, value, unit, lower, upper, qualifier,
    date and grade (ladder; independent sources; agreeing evidence; plausibility).

    Examples:
      orechain claims list --subject "PAK/total mineral wealth/value"
      orechain claims list --format jsonl --out claims.jsonl
    """
    from orechain.claims import ledger

    df = _graded(db, subject)
    if fmt is Format.TABLE:
        emit(df[_LIST_COLS].rename(columns={"sentence_index": "sent"}), fmt, out_path, title="claims")
    else:
        emit(ledger.records(df), fmt, out_path, title="claims")


@claims_app.command("subjects")
def claims_subjects(db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None) -> None:
    """One row per subject: how many claims and documents, and whether they agree, hedge or contradict.

    Example: orechain claims subjects --format csv
    """
    from orechain.claims import ledger

    emit(ledger.compare(_graded(db)), fmt, out_path, title="subjects")


@claims_app.command("conflicts")
def claims_conflicts(
    contradictions_only: Annotated[bool, typer.Option(
        "--contradictions-only", help="Leave out groups that agree only through a hedge.")] = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Subjects whose claims contradict (or agree only through "up to", "at least", ...), with every claim.

    Example: orechain claims conflicts --format jsonl
    """
    from orechain.claims import ledger

    df = ledger.conflicts(_graded(db), include_hedged=not contradictions_only)
    if fmt is Format.TABLE:
        cols = ["status", "subject", "doc", "text", "value", "unit", "qualifier", "lower", "upper", "attribution",
                "plausibility"]
        emit(df[cols], fmt, out_path, title="conflicts")
    else:
        emit(ledger.records(df), fmt, out_path, title="conflicts")
    if df.empty:
        err.print("no conflicting subjects")


@claims_app.command("check")
def claims_check(
    sentence: Annotated[str, typer.Argument(help="A sentence (or a paragraph) to check.")],
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """The sanity calculator: extract the claims of a sentence and grade each against the evidence.

    A claimed mineral wealth is turned into the rare-earth tonnage and ore tonnage it would need at
    current prices and known deposit grades; a grade is set against known deposits; a share against the
    evidence base's stage shares.

    Examples:
      orechain claims check "Pakistan's mineral wealth is worth up to US$68 trillion."
      orechain claims check "Samples show up to 1,400 mg/kg of rare earths in the north."
    """
    from orechain.claims.extract import extract_claims
    from orechain.claims.grading import Reference, ladder_status, plausibility
    from orechain.claims.ingest import names_from_store

    store = open_store(db)
    ref = Reference.from_store(store)
    claims = extract_claims(sentence, names_from_store(store))
    if not claims:
        err.print("no quantitative claim found (a claim is a number with a unit or measure: money, %, mg/kg, "
                  "t, miles, years, a count of projects ...)")
        raise typer.Exit(1)
    grade_ppm = max((c.base_value or c.base_upper or 0.0 for c in claims if c.kind == "grade"), default=0.0) or None
    rows = []
    for c in claims:
        verdict, note = plausibility(c, ref, grade_ppm)
        rows.append({"text": c.text, "subject": c.subject, "value": c.value, "unit": c.unit, "lower": c.lower,
                     "upper": c.upper, "qualifier": c.qualifier, "ladder": ladder_status(c.sentence, c.metric, c.kind),
                     "plausibility": verdict, "note": note})
    if fmt is Format.TABLE and out_path is None:
        for row in rows:
            out.print("\n".join(f"{k:>12}: {'' if v is None else v}" for k, v in row.items()) + "\n",
                      markup=False, highlight=False)
        return
    emit(pd.DataFrame(rows), fmt, out_path, title="check")
