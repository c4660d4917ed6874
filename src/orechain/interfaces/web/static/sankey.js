/* Mine-to-magnet Sankey: nodes are (stage, controlling country), coloured by the country; selectors for commodity,
   year and consumer. Shares are model results; every capacity they rest on links to its source. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const h = OC.h;
  const PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4",
                   "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a", "#b15928", "#33a02c", "#ff7f00", "#8dd3c7"];
  const UNTRACED = "#9ca3af";
  const colourOf = new Map();
  let chart = null, ariaLabel = "";
  const FIRST = "commodity=rare-earths&consumer=USA";  // what the selectors show first, when the data has it

  /* Asked for as soon as this script runs, before ECharts (loaded after it) is parsed; init() awaits them. */
  const early = { commodities: OC.fetchAll("/api/v1/commodities?limit=1000"),
                  countries: OC.fetchAll("/api/v1/countries?limit=1000"),
                  sankey: OC.api("/api/v1/analytics/sankey?" + FIRST) };
  for (const p of Object.values(early)) p.catch(() => {});  // errors are reported where they are awaited

  function colour(country) {
    if (country === "?") return UNTRACED;
    if (!colourOf.has(country)) colourOf.set(country, PALETTE[colourOf.size % PALETTE.length]);
    return colourOf.get(country);
  }
  const label = c => (c === "?" ? "untraced" : c);
  const pct = x => OC.fmt(Math.round(x * 1000) / 10) + "%";

  function params() {
    const p = new URLSearchParams([["commodity", $("f-commodity").value], ["consumer", $("f-consumer").value]]);
    if ($("f-year").value) p.set("year", $("f-year").value);
    if ($("f-demand").value) p.set("demand", $("f-demand").value);
    return p;
  }

  function draw(d) {
    const stageIndex = new Map(d.stages.map((s, i) => [s, i]));
    const nodes = new Map();
    const node = (stage, country, value) => {
      const name = `${stage}: ${label(country)}`;
      if (!nodes.has(name)) nodes.set(name, { name, depth: stageIndex.get(stage), itemStyle: { color: colour(country) },
                                              country, stage });
      if (value !== undefined) nodes.get(name).value = value * 100;
      return name;
    };
    const links = d.links.map(l => ({ source: node(l.source_stage, l.source), target: node(l.target_stage, l.target),
                                      value: l.share * 100, share: l.share }));
    if (!links.length) d.stage_shares.filter(s => s.controlled > 0).forEach(s => node(s.stage, s.country, s.controlled));
    chart.setOption({
      animation: false,
      aria: { enabled: true, label: { description: ariaLabel } },
      tooltip: { trigger: "item", formatter: p => p.dataType === "edge"
        ? `${p.data.source} → ${p.data.target}: ${pct(p.data.share)} of the supply<br>(sources: the table of flows below)`
        : `${p.name}${p.value !== undefined ? ": " + OC.fmt(Math.round(p.value * 10) / 10) + "%" : ""}` },
      series: [{ type: "sankey", left: 40, right: 140, top: 20, bottom: 20, nodeAlign: "justify", draggable: false,
                 emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", opacity: 0.45 },
                 label: { formatter: p => label(p.data.country) + (p.data.depth === 0 || p.data.depth === d.stages.length - 1 ? ` (${p.data.stage})` : "") },
                 levels: d.stages.map((s, i) => ({ depth: i })),
                 data: [...nodes.values()], links }],
    }, true);
    document.body.dataset.sankeyNodes = String(nodes.size);
    document.body.dataset.sankeyLinks = String(links.length);
  }

  /* The sources a model share rests on: the facilities of `stage` controlled from `country` (or hosted there, when
     `hosted`), each capacity's source once; where none has a recorded capacity (a 0% share), the records that
     list them without one. */
  function restsOn(d, pairs) {
    const caps = [], records = [];
    for (const f of d.facilities) {
      if (!pairs.some(([stage, country, hosted]) => f.stage === stage && ((f.controller || f.host) === country || (hosted && f.host === country)))) continue;
      if (f.capacity_native !== null && f.capacity_source_id && !caps.includes(f.capacity_source_id)) caps.push(f.capacity_source_id);
      if (f.source_id && !records.includes(f.source_id)) records.push(f.source_id);
    }
    const refs = ids => ids.flatMap((sid, i) => [i ? " " : "", OC.sourceRef(sid, d.sources)]);
    if (caps.length) return h("span", {}, refs(caps));
    if (records.length) return h("span", {}, "no capacity recorded in ", refs(records));
    return h("span", { class: "muted" }, "no facility: untraced");
  }

  function tables(d) {
    const S = d.sources;
    $("stages").replaceChildren(d.stage_shares.length ? OC.table([
      { label: "Stage", cell: s => s.stage }, { label: "Country", cell: s => h("span", {}, h("span", { class: "swatch", style: `background:${colour(s.country)}` }), " ", s.country) },
      { label: "Hosted", num: true, cell: s => pct(s.hosted) }, { label: "Controlled", num: true, cell: s => pct(s.controlled) },
      { label: "Rests on the capacities of", cell: s => restsOn(d, [[s.stage, s.country, true]]) }],
      d.stage_shares, "Model results: shares of the consumer's supply, computed from the sourced capacities listed")
      : h("p", { class: "muted" }, "No stage carries any of the supply."));
    $("flows").replaceChildren(d.links.length ? OC.table([
      { label: "From", cell: l => `${l.source_stage}: ${label(l.source)}` }, { label: "To", cell: l => `${l.target_stage}: ${label(l.target)}` },
      { label: "Share of the supply (model)", num: true, cell: l => pct(l.share) },
      { label: "Rests on the capacities of", cell: l => restsOn(d, [[l.source_stage, l.source, false], [l.target_stage, l.target, false]]) }],
      d.links, "Model results: the Sankey's links, the part of the consumer's supply flowing from one node to the next")
      : h("p", { class: "muted" }, "No flow between stages: the chain has a single stage or nothing upstream is traced."));
    const rows = d.facilities.slice().sort((a, b) => (b.share || 0) - (a.share || 0));
    $("facilities").replaceChildren(OC.table([
      { label: "Facility", cell: f => h("a", { href: "/facilities/" + encodeURIComponent(f.id) }, f.name || f.id) },
      { label: "Stage", cell: f => f.stage }, { label: "Host", cell: f => f.host }, { label: "Controlled from", cell: f => f.controller || "" },
      { label: "Status", cell: f => f.status || "" },
      { label: "Capacity (as published)", num: true, cell: f => f.capacity_native === null ? h("span", { class: "muted" }, "none recorded")
          : OC.sourced(`${OC.fmt(f.capacity_native)} ${f.capacity_unit || ""}`, f.capacity_source_id, S) },
      { label: `Capacity (${d.basis})`, num: true, cell: f => f.capacity_native === null ? "" : OC.sourced(OC.fmt(Math.round(f.capacity_basis)), f.capacity_source_id, S) },
      { label: "Share of its stage (model)", num: true, cell: f => f.share === null || f.share === undefined ? "" : pct(f.share) },
      { label: "Record", cell: f => OC.sourceRef(f.source_id, S) }],
      rows, "Every capacity links to its source; the share is the model's allocation"));
  }

  async function load() {
    const p = params();
    let d;
    try {
      const first = early.sankey && p.toString() === FIRST ? early.sankey : null;
      early.sankey = null;
      d = await (first || OC.api("/api/v1/analytics/sankey?" + p.toString()));
    } catch (err) {
      chart.clear();
      $("summary").replaceChildren(h("span", { class: "error", role: "alert" }, "Cannot trace this chain: " + err.message));
      $("stages").replaceChildren(); $("flows").replaceChildren(); $("facilities").replaceChildren();
      document.body.dataset.sankeyKey = p.toString();
      document.body.dataset.sankeyLinks = "0"; document.body.dataset.sankeyNodes = "0";
      return;
    }
    draw(d);
    tables(d);
    const untraced = Object.entries(d.unsupplied).filter(([, v]) => v > 0).map(([s, v]) => `${pct(v)} at ${s}`);
    $("summary").textContent = `${d.commodity} supply of ${d.consumer.join(", ")} ${d.year ? "at the end of " + d.year : "(current status)"}: ` +
      `${d.facilities.length} producing facilities, stages ${d.stages.join(" → ")}; bottleneck stage by capacity: ${d.bottleneck_stage}` +
      (untraced.length ? `; untraceable further up: ${untraced.join(", ")}` : "") +
      (d.missing_capacity.length ? `; ${d.missing_capacity.length} without a recorded capacity carry nothing` : "");
    document.body.dataset.sankeyKey = p.toString();
  }

  async function init() {
    ariaLabel = $("sankey").getAttribute("aria-label");  // ECharts' aria writes its description over it
    chart = echarts.init($("sankey"), null, { renderer: "canvas" });
    window.addEventListener("resize", () => chart.resize());
    const [commodities, countries] = await Promise.all([early.commodities, early.countries]);
    for (const c of commodities) $("f-commodity").append(h("option", { value: c.id }, c.name || c.id));
    $("f-commodity").value = commodities.some(c => c.id === "rare-earths") ? "rare-earths" : (commodities[0] || {}).id;
    const now = new Date().getFullYear();
    for (let y = now; y >= now - 15; y--) $("f-year").append(h("option", { value: String(y) }, String(y)));
    for (const c of countries) $("f-consumer").append(h("option", { value: c.code }, `${c.name} (${c.code})`));
    $("f-consumer").value = "USA";
    for (const id of ["f-commodity", "f-year", "f-consumer", "f-demand"]) $(id).addEventListener("change", () => load());
    await load();
  }

  const start = () => init().then(() => { document.body.dataset.ready = "1"; })
    .catch(err => { OC.showError($("summary"), err); document.body.dataset.ready = "error"; });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
