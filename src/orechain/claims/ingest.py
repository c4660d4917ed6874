"""Files to documents: read plain text, HTML or Markdown, repair the text, detect its metadata.

:func:`read_document` turns one file into a :class:`Document` or raises :class:`IngestError` with a clear
reason (binary, empty, too large, unreadable). The original text is kept beside the repaired one, which
is what claim offsets point into. Repairs: :func:`ftfy.fix_text`, then UTF-8 that was decoded as Thai
(TIS-620/cp874) with its continuation bytes lost, which ftfy cannot undo: a lone ``โ`` (byte E2) stands for
a curly quote, an apostrophe or a dash and is restored from its neighbours; pairs such as ``รฉ`` decode
back exactly (``é``).

:func:`ingest_paths` walks files and folders into a store, in resumable batches (see there).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import ftfy
from sqlalchemy import delete, select

from orechain.claims.dates import find_dates

if TYPE_CHECKING:
    from orechain.claims.extract import Claim
    from orechain.claims.grading import Reference
    from orechain.claims.subjects import NameTable
    from orechain.evidence.store import Store

__all__ = [
    "DEFAULT_MAX_BYTES", "SUFFIXES", "Document", "IngestError", "IngestResult", "document_id", "ingest_paths",
    "is_english", "names_from_store", "read_document", "repair_text",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
            ".htm": "html", ".xhtml": "html"}


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str, status: str) -> None:
        self.path = str(path)
        self.reason = reason
        self.status = status
        super().__init__(f"{path}: {reason}")


@dataclass
class Document:
    id: str
    path: str
    name: str
    original_text: str
    text: str  # repaired plain text; claim offsets point into it
    title: str | None
    date: str | None
    publisher: str | None
    language: str
    status: str  # ok, unsupported_language
    repairs: int
    words: int
    notes: list[str] = field(default_factory=list)


# -- repair ---------------------------------------------------------------------------------------------
_THAI_RUN = re.compile(r"[\u0e01-\u0e5b]+")
_LEAD_CHARS = set("ยรโฤ")  # cp874 renderings of UTF-8 lead bytes C2, C3, E2, C4 (rare)
_CONTRACTION = re.compile(r"^(?:s|t|re|ll|ve|d|m)(?![A-Za-z])")


def _lone_e2(prev: str, nxt: str, rest: str) -> str:
    """What a lone ``โ`` (UTF-8 E2 80 xx with the last two bytes lost) most likely was."""
    if prev.isalpha() and nxt.isalpha():
        return "’" if _CONTRACTION.match(rest) else "—"
    if prev in "”’" and nxt.isalnum():
        return "—"
    if prev == "" or prev.isspace() or prev in "([{—":
        return "“"
    return "”"


def repair_text(raw: str) -> tuple[str, int]:
    """(repaired text, number of repairs): ftfy, then UTF-8 mis-decoded as Thai (see the module doc)."""
    text = ftfy.fix_text(raw, normalization="NFC", uncurl_quotes=False)
    repairs = 0 if raw == text else \
        sum(1 for a, b in zip(raw, text, strict=False) if a != b) + abs(len(raw) - len(text))
    thai = _THAI_RUN.findall(text)
    n_thai = sum(len(r) for r in thai)
    if not n_thai:
        return text, repairs
    lead = sum(1 for r in thai for c in r if c in _LEAD_CHARS)
    if lead / n_thai < 0.5 or n_thai / len(thai) > 2.5:
        return text, repairs  # real Thai text (long runs of ordinary letters), not mojibake
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if "\u0e01" <= c <= "\u0e5b":
            pair = text[i:i + 2]
            try:
                dec = pair.encode("cp874").decode("utf-8") if len(pair) == 2 else None
            except (UnicodeEncodeError, UnicodeDecodeError):
                dec = None
            if dec is not None and len(dec) == 1:
                out.append(dec)
                i += 2
                repairs += 1
                continue
            if c == "โ":
                prev = out[-1] if out else ""
                nxt = text[i + 1] if i + 1 < n else ""
                out.append(_lone_e2(prev, nxt, text[i + 1:i + 4]))
                repairs += 1
                i += 1
                continue
            if c == "ย":  # C2 of a lost C2 A0 (no-break space)
                repairs += 1
                if not (out and out[-1].isspace()) and not (i + 1 < n and text[i + 1].isspace()):
                    out.append(" ")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out), repairs


# -- readers ----------------------------------------------------------------------------------------------
class _HTMLText(HTMLParser):
    _SKIP: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "noscript", "template", "svg", "nav", "form", "button", "iframe"})
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "article", "section", "header", "footer",
         "blockquote", "ul", "ol", "table", "figcaption", "pre", "hr", "dd", "dt", "main", "aside"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.h1: str | None = None
        self._skip = 0
        self._in: list[str] = []
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"].strip())
            return
        if tag in self._SKIP:
            self._skip += 1
        if tag in ("title", "h1"):
            self._in.append(tag)
            self._buf = []
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if self._in and self._in[-1] == tag:
            self._in.pop()
            text = " ".join("".join(self._buf).split())
            if tag == "title" and self.title is None:
                self.title = text or None
            if tag == "h1" and self.h1 is None:
                self.h1 = text or None
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)
        if self._skip or (self._in and self._in[-1] == "title"):
            return
        self.parts.append(data)


def _html_to_text(src: str) -> tuple[str, dict[str, str]]:
    p = _HTMLText()
    p.feed(src)
    p.close()
    text = "".join(p.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    meta = {}
    title = p.meta.get("og:title") or p.meta.get("twitter:title") or p.h1 or p.title
    if title:
        meta["title"] = title
    for k in ("article:published_time", "datepublished", "date", "pubdate", "dc.date", "publish-date",
              "og:published_time", "sailthru.date"):
        if p.meta.get(k):
            meta["date"] = p.meta[k]
            break
    for k in ("og:site_name", "publisher", "application-name", "dc.publisher"):
        if p.meta.get(k):
            meta["publisher"] = p.meta[k]
            break
    return text, meta


_FRONT = re.compile(r"\A---\s*\n(?P<y>.*?)\n---\s*\n", re.DOTALL)


def _markdown_to_text(src: str) -> tuple[str, dict[str, str]]:
    meta: dict[str, str] = {}
    m = _FRONT.match(src)
    if m:
        for line in m.group("y").splitlines():
            k, _, v = line.partition(":")
            if k.strip().lower() in ("title", "date", "publisher", "source") and v.strip():
                meta[{"source": "publisher"}.get(k.strip().lower(), k.strip().lower())] = v.strip().strip("'\"")
        src = src[m.end():]
    src = re.sub(r"```.*?```", "", src, flags=re.DOTALL)
    src = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", src)
    src = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", src)
    src = re.sub(r"<[^>\n]+>", "", src)
    lines = []
    for line in src.splitlines():
        h = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if h:
            if "title" not in meta and line.lstrip().startswith("# "):
                meta["title"] = h.group(1)
            line = h.group(1)
        line = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "- ", line)
        line = re.sub(r"(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1", r"\2", line)
        line = re.sub(r"^\s*>\s?", "", line)
        lines.append(line)
    return "\n".join(lines), meta


# -- metadata ---------------------------------------------------------------------------------------------
_BOILER = re.compile(r"^(?:highlights|synopsis|key takeaways|world news|news|click to start listening|"
                     r"share|advertisement|today\b.*|menu|home|.*\bopens in a new tab\b.*)$", re.IGNORECASE)


def _guess_title(lines: list[str]) -> str | None:
    for line in lines[:30]:
        s = line.strip()
        words = s.split()
        if not (4 <= len(words) <= 20) or _BOILER.match(s) or s.startswith(("-", "•", "*")):
            continue
        if s.endswith((".", ":", ",")) or (find_dates(s) and len(words) < 6):
            continue
        return s
    return None


def _guess_date(lines: list[str]) -> str | None:
    for block in (lines[:15], lines[-20:]):
        for line in block:
            if line.lower().startswith(("citation", "source:", "sources:", "via ")) or len(line.split()) > 8:
                continue
            for d in find_dates(line):
                if d.kind == "date":
                    return d.value
    return None


def _guess_publisher(lines: list[str]) -> str | None:
    from orechain.claims.subjects import publishers

    table = publishers()
    for block in (lines[-6:], lines[:6]):
        for line in block:
            if line.lower().startswith(("citation", "source:", "via ")) or len(line.split()) > 12:
                continue
            name = table.get(" ".join(re.findall(r"[\w.]+", line)).lower())
            if name:
                return name
    return None


def _normalise_date(value: str | None) -> str | None:
    if not value:
        return None
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", value.strip())
    if m:
        return m.group(1)
    for d in find_dates(value):
        if d.kind == "date":
            return d.value
    return None


# -- language -----------------------------------------------------------------------------------------------
_EN_STOP = frozenset(("the", "and", "of", "to", "in", "a", "is", "that", "for", "on", "with", "as", "by", "it",
                     "was", "are", "from", "at", "be", "this", "has", "have", "its", "which", "an", "or", "not",
                     "but", "will", "their", "they", "he", "she", "his", "her", "were", "been", "more", "than",
                     "also", "said"))

_OTHER_STOP = frozenset(("el", "la", "los", "las", "que", "y", "en", "un", "una", "por", "con", "para", "del", "le",
                         "les", "des", "et", "est", "une", "du", "der", "die", "und", "das", "ist", "nicht", "mit",
                         "den", "il", "di", "che", "per", "non", "da", "em", "os", "um", "uma", "se", "su", "al"))


def is_english(text: str) -> tuple[bool, str]:
    """(is English, note): a stop-word share test for Latin text, a script test for the rest."""
    letters = [c for c in text[:20000] if c.isalpha()]
    if not letters:
        return False, "no letters"
    latin = sum(1 for c in letters if c < "\u0250")
    if latin / len(letters) < 0.7:
        scripts: dict[str, int] = {}
        for c in letters:
            if c >= "\u0250":
                name = unicodedata.name(c, "UNKNOWN").split()[0]
                scripts[name] = scripts.get(name, 0) + 1
        main = max(scripts, key=lambda k: scripts[k])
        return False, f"mostly {main.title()} script"
    words = re.findall(r"[a-z]+", text[:20000].lower())
    if len(words) < 8:
        return True, "too short to tell the language; taken as English"
    share = sum(1 for w in words if w in _EN_STOP) / len(words)
    other = sum(1 for w in words if w in _OTHER_STOP) / len(words)
    if other > share and other >= 0.1:
        return False, f"Latin script with {other:.0%} Spanish/French/German/Italian/Portuguese function words"
    if share < 0.12 and len(words) >= 40:
        return False, f"Latin script but only {share:.0%} English function words"
    return True, ""


# -- reading a file -----------------------------------------------------------------------------------------
_MAGIC = ((b"%PDF", "a PDF file"), (b"PK\x03\x04", "a ZIP/Office file"), (b"\x89PNG", "a PNG image"),
          (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x1f\x8b", "a gzip file"),
          (b"\x7fELF", "an executable"), (b"SQLite format 3", "a SQLite database"))


def _decode(path: Path, data: bytes) -> str:
    head = data[:8192]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise IngestError(path, f"binary file ({what}); only text, HTML and Markdown are ingested", "binary")
    if b"\x00" in head:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        raise IngestError(path, "binary file (NUL bytes); only text, HTML and Markdown are ingested", "binary")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if controls > len(head) * 0.05:
        raise IngestError(path, "binary file (control bytes); only text, HTML and Markdown are ingested", "binary")
    return data.decode("cp1252", errors="replace")


def document_id(text: str) -> str:
    """sha256 of the text with Unicode (NFC) and whitespace normalised: the same article is one document."""
    norm = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def read_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, title: str | None = None,
                  date: str | None = None, publisher: str | None = None, display_path: str | None = None) -> Document:
    """Read, repair and describe one file. Raises :class:`IngestError` for binary, empty or oversized files."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(path, f"cannot read: {exc.strerror}", "error") from exc
    if size > max_bytes:
        raise IngestError(path, f"file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB "
                                "(raise it with --max-bytes)", "too_large")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot read: {exc.strerror}", "error") from exc
    if not data.strip():
        raise IngestError(path, "empty file; nothing to ingest", "empty")
    raw = _decode(path, data)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        fmt = "html" if re.search(r"<(?:html|body|p|div)\b", raw[:2000], re.IGNORECASE) else "text"
    meta: dict[str, str] = {}
    if fmt == "html":
        body, meta = _html_to_text(raw)
    elif fmt == "markdown":
        body, meta = _markdown_to_text(raw)
    else:
        body = raw.replace("\r\n", "\n").replace("\r", "\n")
    text, repairs = repair_text(body)
    if not text.strip():
        raise IngestError(path, f"no text after reading it as {fmt}; nothing to ingest", "empty")
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    english, note = is_english(text)
    notes = [f"read as {fmt}"]
    if repairs:
        notes.append(f"{repairs} encoding repair(s)")
    if note:
        notes.append(note)
    return Document(
        id=document_id(text), path=display_path or str(path), name=path.name, original_text=raw, text=text,
        title=title or meta.get("title") or _guess_title(lines),
        date=_normalise_date(date) or _normalise_date(meta.get("date")) or _guess_date(lines),
        publisher=publisher or meta.get("publisher") or _guess_publisher(lines),
        language="en" if english else "und", status="ok" if english else "unsupported_language",
        repairs=repairs, words=len(text.split()), notes=notes,
    )


# -- ingesting files and folders into a store --------------------------------------------------------------
@dataclass(frozen=True)
class IngestResult:
    path: str
    status: str  # added, duplicate, unsupported_language, resumed (done in an earlier run), or an error status
    document: str | None = None
    claims: int = 0
    message: str = ""


def _walk(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            out.append(p)
    return out


def ingest_paths(store: Store, paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 title: str | None = None, date: str | None = None, publisher: str | None = None,
                 batch_size: int = 200, names: NameTable | None = None) -> Iterator[IngestResult]:
    """Ingest files and folders, yielding one result per file.

    Files go to the store in batches of ``batch_size``, each batch one transaction together with its
    progress rows; an interrupted run loses at most the batch in flight, and the next run over the same
    folder skips the files recorded as done (same size and modification time). Documents are keyed by
    the hash of their text, so the same article under two names, or ingested twice, is one document.
    """
    from orechain.claims.grading import Reference

    names = names or names_from_store(store)
    ref = Reference.from_store(store)
    for root in paths:
        root = Path(root)
        if not root.exists():
            yield IngestResult(str(root), "error", message=f"{root}: no such file or folder")
            continue
        yield from _ingest_root(store, root, ref, names, max_bytes, title, date, publisher, batch_size)


def names_from_store(store: Store) -> NameTable:
    """The shipped name tables plus the evidence base's organisations, facilities and deals (see
    :meth:`NameTable.with_evidence`), so that claims link to evidence entities."""
    from orechain.claims.subjects import shipped_names
    from orechain.evidence import queries

    return shipped_names().with_evidence(queries.organisations(store).to_dict(orient="records"),
                                         queries.facilities(store).to_dict(orient="records"),
                                         queries.deal_parties(store).to_dict(orient="records"))


class _Batch:
    """Documents, progress rows and results waiting for one transaction."""

    def __init__(self, store: Store, run: str, ref: Reference) -> None:
        self.store, self.run, self.ref = store, run, ref
        self.pending: list[tuple[Document, list[Claim]]] = []
        self.progress: list[dict[str, object]] = []
        self.results: list[IngestResult] = []
        self.ids: set[str] = set()

    def flush(self) -> list[IngestResult]:
        from orechain.claims import ledger, tables

        if not self.results:
            return []
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        prog = tables.ingest_progress
        if not self.pending and not self.progress:  # only failures of single files: nothing to write
            out, self.results = self.results, []
            return out
        with self.store.transaction() as conn:
            seen = {r[0] for r in conn.execute(select(tables.documents.c.id).where(
                tables.documents.c.id.in_([d.id for d, _ in self.pending])))} if self.pending else set()
            ledger.save(conn, self.pending, self.ref, now)
            if self.progress:
                conn.execute(delete(prog).where(prog.c.run == self.run,
                                                prog.c.path.in_([p["path"] for p in self.progress])))
                conn.execute(prog.insert(), self.progress)
        out = [IngestResult(r.path, "duplicate", r.document, 0, "already in the ledger; nothing changed")
               if r.status == "added" and r.document in seen else r for r in self.results]
        self.pending, self.progress, self.results, self.ids = [], [], [], set()
        return out


def _ingest_root(store: Store, root: Path, ref: Reference, names: NameTable, max_bytes: int, title: str | None,
                 date: str | None, publisher: str | None, batch_size: int) -> Iterator[IngestResult]:
    from orechain.claims import tables
    from orechain.claims.extract import extract_claims

    folder = root.is_dir()
    files = _walk(root) if folder else [root]
    run = hashlib.sha256(str(root.resolve()).encode()).hexdigest()
    done: dict[str, tuple[int, float]] = {}
    if folder:
        prog = tables.ingest_progress
        with store.engine.connect() as conn:
            for r in conn.execute(select(prog.c.path, prog.c.size, prog.c.mtime).where(prog.c.run == run)):
                done[r[0]] = (int(r[1]), float(r[2]))
    batch = _Batch(store, run, ref)
    for f in files:
        rel = str(f.relative_to(root)) if folder else f.name
        try:
            st = f.stat()
        except OSError as exc:
            yield IngestResult(str(f), "error", message=f"{f}: {exc.strerror}")
            continue
        if folder and done.get(rel) == (st.st_size, st.st_mtime):
            yield IngestResult(str(f), "resumed", message="done in an earlier run")
            continue
        if folder and f.suffix.lower() not in SUFFIXES:
            res = IngestResult(str(f), "skipped", message=f"{f}: not a .txt, .md or .html file")
        else:
            try:
                doc = read_document(f, max_bytes=max_bytes, title=title, date=date, publisher=publisher,
                                    display_path=str(f))
            except IngestError as exc:
                res = IngestResult(str(f), exc.status, message=str(exc))
            else:
                if doc.id in batch.ids:
                    res = IngestResult(str(f), "duplicate", doc.id, 0, "same text as another file in this run")
                else:
                    claims = extract_claims(doc.text, names) if doc.status == "ok" else []
                    batch.ids.add(doc.id)
                    batch.pending.append((doc, claims))
                    msg = "; ".join(doc.notes)
                    if doc.status != "ok":
                        msg = f"ingested, not extracted: unsupported language ({msg})"
                    res = IngestResult(str(f), "added" if doc.status == "ok" else doc.status, doc.id,
                                       len(claims), msg)
        batch.results.append(res)
        if folder:
            batch.progress.append({"run": run, "path": rel, "size": st.st_size, "mtime": st.st_mtime,
                                   "status": res.status, "document": res.document, "message": res.message[:500]})
        if len(batch.results) >= batch_size:
            yield from batch.flush()
    yield from batch.flush()
