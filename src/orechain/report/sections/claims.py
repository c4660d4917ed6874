"""Report section "Claims against evidence": what coverage claims, grouped by subject and graded.

Reads the claims ledger (``orechain claims ingest`` fills it) and shows every subject with its status
(agree / hedged / contradict), then every claim of the conflicting subjects with its grade. An empty
ledger gives a section that says so and how to fill it; nothing is invented.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from orechain.claims import ledger
from orechain.evidence.store import Store
from orechain.report.html import csv_name, table_html
from orechain.report.section import ReportContext, Section

__all__ = ["build"]

SECTION_ID = "claims"


def build(store: Store, ctx: ReportContext) -> Section:
    df = ledger.grade(ledger.claims_frame(store))
    if df.empty:
        return Section(SECTION_ID, "Claims against evidence",
                       Markup("<p>The claims ledger is empty. Run <code>orechain claims ingest PATH</code> on "
                              "articles to fill it.</p>"), summary=["claims ledger: empty"])
    subjects = ledger.compare(df)
    conf = ledger.records(ledger.conflicts(df))
    cols = ["status", "subject", "doc", "text", "value", "unit", "qualifier", "lower", "upper", "attribution",
            "ladder", "independent_sources", "plausibility", "plausibility_note"]
    conf = conf[[c for c in cols if c in conf.columns]]
    n_contra = int((subjects["status"] == "contradict").sum())
    html = Markup(
        "<p>{n} quantitative claims from {d} documents, in {s} subjects: {c} contradict, {h} agree only through a "
        "hedge. Each claim is graded on the reporting ladder (a government's 'worth $N trillion' is an "
        "unclassified estimate), by independent sources that agree, and by plausibility against the evidence "
        "base.</p>").format(n=len(df), d=df["document"].nunique(), s=len(subjects), c=n_contra,
                            h=int((subjects["status"] == "hedged").sum()))
    html += Markup("<h3>Subjects</h3>") + table_html(subjects, csv=csv_name(SECTION_ID, "subjects"))
    html += Markup("<h3>Conflicting subjects, every claim</h3>") + table_html(
        conf, csv=csv_name(SECTION_ID, "conflicts"))
    checked = ledger.records(df[df["plausibility"].isin(["consistent", "inconsistent", "same_source"])])
    cols = ["doc", "text", "subject", "plausibility", "evidence_agrees", "evidence_disagrees",
            "evidence_same_source", "evidence_entities", "plausibility_note"]
    checked = checked[[c for c in cols if c in checked.columns]]
    html += Markup(
        "<h3>Claims checked against the evidence base</h3><p>Shares against the evidence base's stage shares, "
        "deal values against its deals. Evidence that rests on the claim's own source (the same publisher, a "
        "source that cites the article, or the source the claim quotes) is counted as <em>same_source</em>, "
        "never as confirmation.</p>") + table_html(checked, csv=csv_name(SECTION_ID, "checked"))
    summary = [f"claims: {len(df)} in {len(subjects)} subjects; {n_contra} contradicting subject(s)"]
    for _, row in subjects[subjects["status"] == "contradict"].iterrows():
        summary.append(f"  contradiction: {escape(row['subject'])}")
    return Section(SECTION_ID, "Claims against evidence", html,
                   tables={"subjects": subjects, "conflicts": conf, "checked": checked}, summary=summary)
