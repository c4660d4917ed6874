/* Facility, deal and source pages, and the deal and source lists. Every figure links to its source. */
"use strict";
(function () {
  const h = OC.h;
  const root = document.getElementById("page");
  const id = root.dataset.id;

  /* A chart canvas; aria-details names the list or table that gives the same figures with their sources. */
  function chartBox(label, detailsId) {
    return h("div", { class: "chart small", role: "img", "aria-label": label, "aria-details": detailsId });
  }

  /* A chart label cut to n characters says it was cut (the list below the chart has the whole name). */
  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  /* Free-text notes come from the record, so they carry the record's source. */
  function notes(text, sourceId, S) { return text ? h("span", {}, text, " ", OC.sourceRef(sourceId, S)) : null; }

  async function facility() {
    const d = await OC.api("/api/v1/facilities/" + encodeURIComponent(id));
    const f = d.facility, S = d.sources;
    const tl = chartBox(`Lifecycle timeline of ${f.name}; the list below gives the same dates`, "timeline-list");
    root.replaceChildren(
      h("h1", {}, f.name),
      OC.kv([["Stage", f.stage], ["Current status", f.status || "unknown"], ["Commodity", f.commodity],
             ["Host country", f.country], ["Region", f.region], ["Site", f.site],
             ["Coordinates", f.lat === null ? null : OC.sourced(`${OC.fmt(f.lat)}, ${OC.fmt(f.lon)}`, f.source_id, S)],
             ["Operator", d.operator ? h("span", {}, d.operator.name, " (", d.operator.country, ") ", OC.sourceRef(d.operator.source_id, S)) : null],
             ["Capacity", f.capacity === null ? null : OC.sourced(`${OC.fmt(f.capacity)} ${f.capacity_unit || ""}${f.capacity_year ? " (" + f.capacity_year + ")" : ""}`, f.capacity_source_id || f.source_id, S)],
             ["Record source", OC.sourceRef(f.source_id, S)], ["Notes", notes(f.notes, f.source_id, S)]]),
      h("h2", {}, "Lifecycle"), tl,
      h("ol", { class: "timeline", id: "timeline-list", "aria-label": "Status history" }, d.history.map(x =>
        h("li", {}, h("strong", {}, x.date), " ", h("span", { class: "status" }, x.status), x.note ? " " + x.note : "", " ", OC.sourceRef(x.source_id, S)))),
      d.history.length ? null : h("p", { class: "muted" }, "No dated status in the evidence base."),
      h("h2", {}, "Owners"),
      d.owners.length ? OC.table([
        { label: "Organisation", cell: o => o.name || o.organisation }, { label: "Controlled from", cell: o => o.country },
        { label: "Stake", num: true, cell: o => OC.sourced(OC.fmt(o.stake * 100) + "%", o.source_id, S) }], d.owners)
        : h("p", { class: "muted" }, "No ownership recorded."),
      h("h2", {}, "Links"),
      (d.upstream.length + d.downstream.length) ? OC.table([
        { label: "Direction", cell: x => x.dir }, { label: "Facility", cell: x => h("a", { href: "/facilities/" + encodeURIComponent(x.other) }, x.name || x.other) },
        { label: "Kind", cell: x => x.kind }, { label: "Share", num: true, cell: x => x.share === null ? "" : OC.sourced(OC.fmt(x.share), x.source_id, S) },
        { label: "Source", cell: x => OC.sourceRef(x.source_id, S) }],
        d.upstream.map(x => Object.assign({ dir: "supplied by", other: x.upstream }, x)).concat(d.downstream.map(x => Object.assign({ dir: "supplies", other: x.downstream }, x))))
        : h("p", { class: "muted" }, "No material link recorded."),
      h("h2", {}, "Observations"),
      d.observations.length ? OC.table([
        { label: "Metric", cell: o => o.metric }, { label: "Year", cell: o => o.year || o.period || "" },
        { label: "Value", num: true, cell: o => OC.sourced(o.value === null ? (o.value_text || "") : OC.fmt(o.value), o.source_id, S) },
        { label: "Unit", cell: o => o.unit }, { label: "Quality", cell: o => o.quality }], d.observations)
        : h("p", { class: "muted" }, "No observation recorded for this facility."),
    );
    const pts = d.history.map(x => ({ date: OC.time(x.date), tip: `${x.date}: ${x.status}` })).filter(p => p.date !== null);
    OC.timeline(tl, pts, [], tl.getAttribute("aria-label"));
  }

  async function deal() {
    const d = await OC.api("/api/v1/deals/" + encodeURIComponent(id));
    const x = d.deal, S = d.sources;
    const tl = chartBox(`Phases and milestones of ${x.name}; the list below gives the same dates`, "timeline-list");
    const value = x.value !== null ? `${OC.fmt(x.value)} ${x.value_unit || ""}` : x.value_text;
    root.replaceChildren(
      h("h1", {}, x.name),
      OC.kv([["Signed", x.signed ? OC.sourced(x.signed, x.source_id, S) : null], ["Status", x.status],
             ["Value", value ? OC.sourced(value, x.source_id, S) : null], ["Commodities", x.commodities.join(", ")],
             ["Record source", OC.sourceRef(x.source_id, S)], ["Notes", notes(x.notes, x.source_id, S)]]),
      h("h2", {}, "Parties"),
      OC.table([{ label: "Organisation", cell: p => p.name }, { label: "Role", cell: p => p.role },
                { label: "Controlled from", cell: p => p.country }, { label: "Source", cell: p => OC.sourceRef(p.source_id, S) }], d.parties),
      h("h2", {}, "Lifecycle"), tl,
      h("ol", { class: "timeline", id: "timeline-list", "aria-label": "Phases and milestones" }, d.phases.map(p =>
        h("li", {}, h("strong", {}, `Phase ${p.seq}: ${p.name}`), " ",
          OC.sourced(`(${p.start || "?"} – ${p.end || "open"})`, x.source_id, S), p.status ? [" ", h("span", { class: "status" }, p.status)] : "",
          h("div", {}, p.description),
          p.milestones.length ? h("ul", {}, p.milestones.map(m => h("li", {}, h("strong", {}, m.date), " ", m.description, " ", OC.sourceRef(m.source_id, S)))) : null))),
    );
    const spans = d.phases.map(p => ({ label: short(`${p.seq}. ${p.name}`, 28), start: OC.time(p.start || x.signed), end: OC.time(p.end) || Date.now(),
                                       tip: `${p.name}: ${p.start || "?"} – ${p.end || "open"}` })).filter(s => s.start !== null);
    const pts = [];
    d.phases.forEach((p, i) => p.milestones.forEach(m => { const t = OC.time(m.date); if (t !== null) pts.push({ date: t, row: i, tip: `${m.date}: ${m.description}` }); }));
    if (x.signed && OC.time(x.signed) !== null) pts.push({ date: OC.time(x.signed), tip: `${x.signed}: signed` });
    OC.timeline(tl, pts, spans, tl.getAttribute("aria-label"));
  }

  async function source() {
    const d = await OC.api("/api/v1/sources/" + encodeURIComponent(id));
    const s = d.source;
    root.dataset.ofSource = s.id;  // this page is the source: every figure on it is the source's
    root.replaceChildren(
      h("h1", {}, s.title),
      OC.kv([["Id", s.id], ["Publisher", s.publisher], ["Date", s.date], ["Kind", s.kind], ["Licence", s.licence],
             ["Address", s.url ? h("span", {}, s.url, " (not followed from here: the dashboard makes no outside request)") : null], ["Notes", s.notes]]),
      h("h2", {}, `Observations citing it (${d.observations.length})`),
      d.observations.length ? OC.table([{ label: "Metric", cell: o => o.metric }, { label: "Commodity", cell: o => o.commodity },
        { label: "Country", cell: o => o.country || "" }, { label: "Year", cell: o => o.year || o.period || "" },
        { label: "Value", num: true, cell: o => o.value === null ? (o.value_text || "") : OC.fmt(o.value) }, { label: "Unit", cell: o => o.unit },
        { label: "Quality", cell: o => o.quality }], d.observations) : h("p", { class: "muted" }, "None."),
      h("h2", {}, `Facilities citing it (${d.facilities.length})`),
      d.facilities.length ? OC.table([{ label: "Facility", cell: f => h("a", { href: "/facilities/" + encodeURIComponent(f.id) }, f.name) },
        { label: "Stage", cell: f => f.stage }, { label: "Country", cell: f => f.country }], d.facilities) : h("p", { class: "muted" }, "None."),
    );
  }

  async function deals() {
    const rows = await OC.fetchAll("/api/v1/deals?limit=1000");
    root.replaceChildren(h("h1", {}, "Deals"), rows.length ? OC.table([
      { label: "Deal", cell: x => h("a", { href: "/deals/" + encodeURIComponent(x.id) }, x.name) },
      { label: "Signed", cell: x => x.signed || "" }, { label: "Status", cell: x => x.status },
      { label: "Value", num: true, cell: x => x.value !== null ? OC.sourced(`${OC.fmt(x.value)} ${x.value_unit || ""}`, x.source_id) : (x.value_text ? OC.sourced(x.value_text, x.source_id) : "") },
      { label: "Source", cell: x => OC.sourceRef(x.source_id) }], rows) : h("p", { class: "muted" }, "No deal in the evidence base."));
  }

  async function sources() {
    const rows = await OC.fetchAll("/api/v1/sources?limit=1000");
    root.replaceChildren(h("h1", {}, "Sources"), OC.table([
      { label: "Id", cell: s => h("a", { href: "/sources/" + encodeURIComponent(s.id) }, s.id) },
      { label: "Publisher", cell: s => s.publisher }, { label: "Title", cell: s => s.title }, { label: "Date", cell: s => s.date || "" },
      { label: "Observations", num: true, cell: s => s.observations }, { label: "Facilities", num: true, cell: s => s.facilities }], rows));
  }

  const pages = { facility, deal, source, deals, sources };
  pages[root.dataset.page]().then(() => { document.body.dataset.ready = "1"; })
    .catch(err => { OC.showError(root, err); document.body.dataset.ready = "error"; });
})();
