/* Claims ledger and document pages. A claim's figure links to its passage in its document; the source sentence
   shows on hover and on keyboard focus (a tooltip tied by aria-describedby); conflicting subjects are highlighted. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const h = OC.h;
  const CONFLICT = new Set(["contradict", "hedged", "incomparable"]);
  const STATUS_TEXT = { contradict: "figures contradict", hedged: "agree only through a hedge",
                        incomparable: "different units", agree: "agree" };

  function passage(c) { return "/documents/" + encodeURIComponent(c.document) + "#claim-" + c.id; }

  function unitText(u) { return !u ? "" : u === "%" ? "%" : " " + u; }

  function figure(c) {
    const unit = unitText(c.unit);
    if (c.value !== null && c.value !== undefined) return OC.fmt(c.value) + unit;
    if (c.lower !== null && c.upper !== null) return `${OC.fmt(c.lower)}–${OC.fmt(c.upper)}${unit}`;
    if (c.upper !== null) return `up to ${OC.fmt(c.upper)}${unit}`;
    if (c.lower !== null) return `at least ${OC.fmt(c.lower)}${unit}`;
    return c.text;
  }

  /* The sentence with the claim's words marked. */
  function sentence(c) {
    const s = c.sentence || "", i = s.indexOf(c.text);
    if (i < 0) return [s];
    return [s.slice(0, i), h("mark", {}, c.text), s.slice(i + c.text.length)];
  }

  /* A focusable claim whose tooltip (the source sentence) shows on hover and focus; Escape hides it. */
  function claimText(c, label, tipBody) {
    const tipId = "tip-" + c.id;
    const el = h("span", { class: "claim", tabindex: "0", "aria-describedby": tipId, "data-claim": c.id }, label);
    const tip = h("span", { class: "tip", role: "tooltip", id: tipId }, tipBody);
    el.addEventListener("keydown", ev => { if (ev.key === "Escape") tip.classList.add("dismissed"); });
    el.addEventListener("blur", () => tip.classList.remove("dismissed"));
    el.addEventListener("mouseleave", () => tip.classList.remove("dismissed"));
    return h("span", { class: "claim-wrap" }, el, tip);
  }

  function grade(c) {
    return h("span", { title: c.plausibility_note || "" }, `${c.ladder.replace(/_/g, " ")}; ${c.independent_sources} source(s); `,
      h("span", { class: "status" }, c.plausibility));
  }

  function evidenceLinks(rows) {
    if (!rows || !rows.length) return h("span", { class: "muted" }, "none");
    return h("span", {}, rows.flatMap((e, i) => [i ? "; " : "", e.relation + " ",
      OC.sourced(`${OC.fmt(e.value)}${unitText(e.unit)}${e.year ? " (" + e.year + ")" : ""}`, e.source_id)]));
  }

  /* ---- the ledger ---------------------------------------------------------------------------------------------- */
  const state = { subjects: new Map(), evidence: new Map() };

  function fill(sel, values) {
    for (const [v, label] of values) sel.append(h("option", { value: v }, label));
  }

  function claimsUrl() {
    const p = new URLSearchParams([["limit", "1000"]]);
    for (const k of ["subject", "document", "plausibility"]) { const v = $("f-" + k).value; if (v) p.set(k, v); }
    return "/api/v1/claims?" + p.toString();
  }

  async function render() {
    let rows = await OC.fetchAll(claimsUrl());
    if ($("f-show").value === "conflicts") rows = rows.filter(c => CONFLICT.has((state.subjects.get(c.subject) || {}).status));
    const groups = new Map();
    for (const c of rows) { if (!groups.has(c.subject)) groups.set(c.subject, []); groups.get(c.subject).push(c); }
    const nConf = [...groups.keys()].filter(s => CONFLICT.has((state.subjects.get(s) || {}).status)).length;
    const thead = h("thead", {}, h("tr", {}, ["Claim (as stated)", "Figure", "Document", "Said by", "Grade", "Evidence"]
      .map(t => h("th", { scope: "col" }, t))));
    const bodies = [...groups.entries()].map(([subject, cs]) => {
      const info = state.subjects.get(subject) || { status: "agree", claims: cs.length, documents: 1 };
      const bad = CONFLICT.has(info.status);
      return h("tbody", { class: bad ? "conflict" : null, "data-subject": subject, "data-status": info.status },
        h("tr", { class: "subject" }, h("th", { scope: "rowgroup", colspan: "6" }, subject, " ",
          h("span", { class: bad ? "status bad" : "status" }, STATUS_TEXT[info.status] || info.status),
          ` ${info.claims} claim(s) in ${info.documents} document(s)`)),
        cs.map(c => h("tr", { "data-claim": c.id },
          h("td", {}, claimText(c, c.text, sentence(c))),
          h("td", { class: "num" }, h("a", { href: passage(c), title: `the passage in ${c.doc}` }, figure(c))),
          h("td", {}, h("a", { href: "/documents/" + encodeURIComponent(c.document) }, c.doc)),
          h("td", {}, [c.publisher, c.doc_date, c.attribution ? "attributed to " + c.attribution : null].filter(Boolean).join(", ") || h("span", { class: "muted" }, "not stated")),
          h("td", {}, grade(c)),
          h("td", {}, evidenceLinks(state.evidence.get(c.id))))));
    });
    $("claims").replaceChildren(rows.length ? h("table", { class: "ledger" }, h("caption", { class: "muted" },
      "Claims grouped by subject; highlighted groups conflict."), thead, bodies)
      : h("p", { class: "muted" }, "No claim matches these filters."));
    $("summary").textContent = `${rows.length} claim(s) on ${groups.size} subject(s); ${nConf} subject(s) in conflict`;
    document.body.dataset.claimsShown = String(rows.length);
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  }

  async function ledger() {
    const [subjects, evidence, docs] = await Promise.all([
      OC.fetchAll("/api/v1/claims/subjects?limit=1000"), OC.fetchAll("/api/v1/claims/evidence?limit=1000"),
      OC.fetchAll("/api/v1/documents?limit=1000")]);
    for (const s of subjects) state.subjects.set(s.subject, s);
    for (const e of evidence) { if (!state.evidence.has(e.claim)) state.evidence.set(e.claim, []); state.evidence.get(e.claim).push(e); }
    fill($("f-subject"), subjects.map(s => [s.subject, `${s.subject}${CONFLICT.has(s.status) ? " (conflict)" : ""}`]));
    fill($("f-document"), docs.map(d => [d.id, d.title ? `${d.name}: ${d.title}` : d.name]));
    fill($("f-plausibility"), ["plausible", "doubtful", "implausible", "impossible", "consistent", "inconsistent", "unchecked"].map(v => [v, v]));
    const wanted = new URLSearchParams(location.search).get("subject");
    if (wanted) $("f-subject").value = wanted;
    for (const id of ["f-show", "f-subject", "f-document", "f-plausibility"]) {
      $(id).addEventListener("change", () => render().catch(err => { OC.showError($("claims"), err); document.body.dataset.ready = "error"; }));
    }
    await render();
  }

  /* ---- one document --------------------------------------------------------------------------------------------- */
  async function documentPage(root) {
    const d = await OC.api("/api/v1/documents/" + encodeURIComponent(root.dataset.id));
    const doc = d.document;
    const ev = new Map();
    for (const e of d.evidence) { if (!ev.has(e.claim)) ev.set(e.claim, []); ev.get(e.claim).push(e); }
    const text = h("div", { class: "doctext", "aria-label": "Text of the document; claims are marked" });
    let at = 0;
    for (const c of d.claims) {
      if (c.start < at) continue; // overlapping spans: the first one is marked
      text.append(doc.text.slice(at, c.start));
      const bad = CONFLICT.has(c.subject_status);
      const mark = h("mark", { id: "claim-" + c.id, class: bad ? "conflict" : null, tabindex: "0",
                               title: `${c.subject}: ${STATUS_TEXT[c.subject_status] || c.subject_status}; ${c.plausibility}` },
        doc.text.slice(c.start, c.end));
      text.append(mark);
      at = c.end;
    }
    text.append(doc.text.slice(at));
    root.dataset.ofSource = root.dataset.id;  // this page is the document: its figures and text are its own
    root.replaceChildren(
      h("h1", {}, doc.title || doc.name),
      OC.kv([["File", doc.name], ["Publisher", doc.publisher || "not detected"], ["Date", doc.date || "not detected"],
             ["Language", doc.language], ["Status", doc.status], ["Words", OC.fmt(doc.words)], ["Ingested", doc.ingested_at],
             ["Notes", doc.notes]]),
      h("h2", {}, `Claims (${d.claims.length})`),
      d.claims.length ? OC.table([
        { label: "Claim", cell: c => h("a", { href: "#claim-" + c.id }, c.text) },
        { label: "Subject", cell: c => h("span", {}, c.subject, " ", h("span", { class: CONFLICT.has(c.subject_status) ? "status bad" : "status" }, STATUS_TEXT[c.subject_status] || c.subject_status)) },
        { label: "Grade", cell: grade },
        { label: "Evidence", cell: c => evidenceLinks(ev.get(c.id)) },
        { label: "Other claims", cell: c => h("a", { href: "/claims?subject=" + encodeURIComponent(c.subject) }, "same subject") }], d.claims)
        : h("p", { class: "muted" }, "No quantitative claim was found in this document."),
      h("h2", {}, "Text"), text);
    if (location.hash.startsWith("#claim-")) {
      const m = document.getElementById(location.hash.slice(1));
      if (m) { m.scrollIntoView({ block: "center" }); m.focus(); }
    }
  }

  const root = document.getElementById("page");
  const run = root && root.dataset.page === "document" ? () => documentPage(root) : ledger;
  run().then(() => { document.body.dataset.ready = "1"; })
    .catch(err => { OC.showError(root || $("claims"), err); document.body.dataset.ready = "error"; });
})();
