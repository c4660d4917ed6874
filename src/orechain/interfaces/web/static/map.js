/* Corridor map: facilities by stage and status, material links, the selected route, facility details. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const h = OC.h;
  const PRODUCING = new Set(["operating", "commissioning"]);
  const STOPPED = new Set(["suspended", "closed"]);
  const state = { all: [], links: [], chart: null, shown: [], world: null, numeric: {}, deals: [] };
  const CORRIDOR = ["PAK", "USA"];  // the route shown first

  /* Asked for as soon as this script runs, before ECharts (loaded after it) is parsed; init() awaits them. */
  const corridorUrl = (from, to) => "/api/v1/deals?" + new URLSearchParams([["party_country", from], ["party_country", to], ["limit", "1000"]]).toString();
  const early = {
    atlas: fetch("/vendor/world-atlas-2.0.2-countries-110m.json").then(r => r.json()),
    facilities: OC.fetchAll("/api/v1/facilities?limit=1000"), links: OC.fetchAll("/api/v1/links?limit=1000"),
    commodities: OC.fetchAll("/api/v1/commodities?limit=1000"), countries: OC.fetchAll("/api/v1/countries?limit=1000"),
    deals: OC.fetchAll(corridorUrl(...CORRIDOR)),
  };
  for (const p of Object.values(early)) p.catch(() => {});  // errors are reported where they are awaited

  /* Where a country sits on the map: the mean of its facilities with coordinates, else the centre of its
     largest polygon in the atlas. */
  function anchor(code) {
    const pts = state.all.filter(f => f.country === code && f.lat !== null && f.lon !== null);
    if (pts.length) return [pts.reduce((a, f) => a + f.lon, 0) / pts.length, pts.reduce((a, f) => a + f.lat, 0) / pts.length];
    const feat = state.world.features.find(f => Number(f.id) === state.numeric[code]);
    if (!feat) return null;
    const polys = feat.geometry.type === "Polygon" ? [feat.geometry.coordinates] : feat.geometry.coordinates;
    const ring = polys.map(p => p[0]).sort((a, b) => b.length - a.length)[0];
    return [ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length];
  }

  /* Rings that cross the 180th meridian (eastern Russia, Fiji) jump from +180 to -180 and draw a stripe across
     the whole map: their western points are moved east of +180 instead. */
  function unwrapAntimeridian(world) {
    for (const f of world.features) {
      const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [];
      for (const ring of polys.flat()) {
        if (ring.some(p => p[0] > 170) && ring.some(p => p[0] < -170)) for (const p of ring) if (p[0] < 0) p[0] += 360;
      }
    }
  }

  async function loadCorridor() {
    const from = $("f-from").value, to = $("f-to").value;
    const first = early.deals && from === CORRIDOR[0] && to === CORRIDOR[1] ? early.deals : null;
    early.deals = null;
    state.deals = from === to ? [] : await (first || OC.fetchAll(corridorUrl(from, to)));
  }

  function symbolFor(status) {
    if (PRODUCING.has(status)) return "circle";
    if (STOPPED.has(status)) return "path://M2,0 L5,3 L8,0 L10,2 L7,5 L10,8 L8,10 L5,7 L2,10 L0,8 L3,5 L0,2 Z";
    return "triangle";
  }

  function fillSelect(sel, values, keep) {
    for (const v of values) sel.append(h("option", { value: v }, v));
    if (keep !== undefined) sel.value = keep;
  }

  function params() {
    const p = new URLSearchParams();
    for (const k of ["stage", "status", "commodity", "country"]) { const v = $("f-" + k).value; if (v) p.set(k, v); }
    p.set("limit", "1000");
    return p;
  }

  async function loadFacilities() {
    const p = params();
    const unfiltered = [...p.keys()].every(k => k === "limit");  // every facility: the list init() already read
    const rows = unfiltered ? state.all : await OC.fetchAll("/api/v1/facilities?" + p.toString());
    state.shown = rows;
    draw();
    renderTable();
    $("summary").textContent = `${rows.length} of ${state.all.length} facilities shown` +
      (rows.filter(r => r.lat === null || r.lon === null).length ? ` (${rows.filter(r => r.lat === null || r.lon === null).length} without coordinates: listed in the table, not on the map)` : "");
    document.body.dataset.facilitiesShown = String(rows.length);
  }

  function routeLinks() {
    const byId = new Map(state.all.map(f => [f.id, f]));
    const from = $("f-from").value, to = $("f-to").value;
    return state.links.map(l => ({ l, up: byId.get(l.upstream), down: byId.get(l.downstream) }))
      .filter(x => x.up && x.down && x.up.country === from && x.down.country === to);
  }

  function draw() {
    const byId = new Map(state.all.map(f => [f.id, f]));
    const stages = Object.keys(OC.STAGE_COLOURS);
    const series = stages.map(stage => ({
      type: "scatter", coordinateSystem: "geo", name: stage, symbolSize: 12,
      itemStyle: { color: OC.STAGE_COLOURS[stage], borderColor: "#fff", borderWidth: 1 },
      data: state.shown.filter(f => f.stage === stage && f.lat !== null && f.lon !== null)
        .map(f => ({ name: f.name, value: [f.lon, f.lat], id: f.id, symbol: symbolFor(f.status), status: f.status })),
    }));
    const lines = state.links.map(l => ({ l, up: byId.get(l.upstream), down: byId.get(l.downstream) }))
      .filter(x => x.up && x.down && x.up.lat !== null && x.down.lat !== null);
    const route = new Set(routeLinks().map(x => x.l.upstream + ">" + x.l.downstream));
    series.push({
      type: "lines", coordinateSystem: "geo", name: "links", silent: true, zlevel: 1,
      data: lines.map(x => {
        const onRoute = route.has(x.l.upstream + ">" + x.l.downstream);
        return { coords: [[x.up.lon, x.up.lat], [x.down.lon, x.down.lat]],
                 lineStyle: { width: onRoute ? 3.5 : 1, color: onRoute ? "#d7301f" : "#888", curveness: 0.2, opacity: onRoute ? 0.95 : 0.5 } };
      }),
    });
    const a = anchor($("f-from").value), b = anchor($("f-to").value);
    series.push({
      type: "lines", coordinateSystem: "geo", name: "corridor", zlevel: 2,
      tooltip: { formatter: () => state.deals.map(d => d.name).join("<br>") },
      data: (state.deals.length && a && b) ? [{ coords: [a, b], lineStyle: { width: 4, type: "dashed", color: "#d7301f", curveness: 0.25 } }] : [],
    });
    state.chart.setOption({
      animation: false,
      aria: { enabled: true, label: { description: state.label } },
      legend: { data: stages, bottom: 4, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: p => p.data && p.data.id ? `${p.data.name}<br>${p.seriesName}, ${p.data.status || "status unknown"}` : "" },
      geo: { map: "world", roam: true, emphasis: { disabled: true }, itemStyle: { areaColor: "#eef1f4", borderColor: "#b8c0c8" },
             center: [20, 25], zoom: 1.2 },
      series: series,
    }, { replaceMerge: ["series"] });
  }

  function renderTable() {
    const cols = [
      { label: "Facility", cell: f => h("a", { href: "/facilities/" + encodeURIComponent(f.id) }, f.name) },
      { label: "Stage", cell: f => f.stage },
      { label: "Status", cell: f => h("span", { class: "status" }, f.status || "unknown") },
      { label: "Commodity", cell: f => f.commodity },
      { label: "Country", cell: f => f.country },
      { label: "Capacity", num: true, cell: f => f.capacity === null ? "" : OC.sourced(OC.fmt(f.capacity) + " " + (f.capacity_unit || ""), f.capacity_source_id || f.source_id) },
      { label: "Source", cell: f => OC.sourceRef(f.source_id) },
      { label: "", cell: f => h("button", { type: "button", "aria-label": `Details of ${f.name}${f.lat === null || f.lon === null ? "" : ", and its marker on the map"}`, on: { click: () => showDetails(f.id) } }, "Details") },
    ];
    $("facility-table").replaceChildren(OC.table(cols, state.shown));
    const rl = routeLinks();
    $("route-h").textContent = `Route ${$("f-from").value} → ${$("f-to").value}: ${state.deals.length} deal(s), ${rl.length} facility link(s)`;
    $("route").replaceChildren(
      h("p", { class: "legend-note" }, "The dashed line joins the two countries when a deal has parties controlled from both; it is a deal corridor, not a surveyed shipping route."),
      state.deals.length ? OC.table([
        { label: "Deal", cell: d => h("a", { href: "/deals/" + encodeURIComponent(d.id) }, d.name) },
        { label: "Signed", cell: d => d.signed || "" }, { label: "Status", cell: d => d.status },
        { label: "Value", num: true, cell: d => d.value !== null ? OC.sourced(`${OC.fmt(d.value)} ${d.value_unit || ""}`, d.source_id) : (d.value_text ? OC.sourced(d.value_text, d.source_id) : "") },
        { label: "Source", cell: d => OC.sourceRef(d.source_id) }], state.deals, "Deals between parties of the two countries")
        : h("p", { class: "muted" }, "No deal between parties controlled from these countries in the evidence base."),
      rl.length ? OC.table([
      { label: "From", cell: x => h("a", { href: "/facilities/" + encodeURIComponent(x.up.id) }, x.up.name) },
      { label: "To", cell: x => h("a", { href: "/facilities/" + encodeURIComponent(x.down.id) }, x.down.name) },
      { label: "Kind", cell: x => x.l.kind },
      { label: "Share", num: true, cell: x => x.l.share === null ? "" : OC.sourced(OC.fmt(x.l.share), x.l.source_id) },
      { label: "Source", cell: x => OC.sourceRef(x.l.source_id) },
    ], rl, "Sourced material links between facilities of the two countries") : h("p", { class: "muted" }, "No sourced facility-to-facility link between these countries in the evidence base."));
  }

  /* Keyboard users reach markers through the table: its Details button also highlights the facility's marker
     and shows its tooltip. Returns whether the facility is on the map (it may lack coordinates). */
  function selectMarker(id) {
    state.chart.dispatchAction({ type: "downplay" });
    state.chart.dispatchAction({ type: "hideTip" });
    const series = state.chart.getOption().series;
    for (let si = 0; si < series.length; si++) {
      if (series[si].type !== "scatter") continue;
      const di = series[si].data.findIndex(d => d.id === id);
      if (di < 0) continue;
      state.chart.dispatchAction({ type: "highlight", seriesIndex: si, dataIndex: di });
      state.chart.dispatchAction({ type: "showTip", seriesIndex: si, dataIndex: di });
      document.body.dataset.selectedMarker = id;
      return true;
    }
    document.body.dataset.selectedMarker = "";
    return false;
  }

  async function showDetails(id) {
    selectMarker(id);
    const box = $("details");
    box.replaceChildren(h("h2", {}, "Facility details"), h("p", { class: "muted" }, "Loading…"));
    try {
      const d = await OC.api("/api/v1/facilities/" + encodeURIComponent(id));
      const f = d.facility, S = d.sources;
      const cap = f.capacity === null ? null : OC.sourced(`${OC.fmt(f.capacity)} ${f.capacity_unit || ""}${f.capacity_year ? " (" + f.capacity_year + ")" : ""}`, f.capacity_source_id || f.source_id, S);
      box.replaceChildren(
        h("h2", { id: "details-name" }, f.name),
        OC.kv([["Stage", f.stage], ["Status", f.status ? OC.sourced(f.status + (f.status_date ? " since " + f.status_date : ""), (d.history.filter(x => x.status === f.status).pop() || {}).source_id, S) : "unknown"],
               ["Commodity", f.commodity], ["Country", f.country], ["Region", f.region], ["Operator", d.operator ? d.operator.name : null],
               ["Capacity", cap], ["Owners", d.owners.length ? h("span", {}, d.owners.map((o, i) => [i ? "; " : "", o.name || o.organisation, " ", OC.sourced(OC.fmt(o.stake * 100) + "%", o.source_id, S)])) : null]]),
        h("h3", {}, "Sources"),
        h("ul", {}, Object.values(S).map(s => h("li", {}, OC.sourced(`${s.publisher}: ${s.title}`, s.id, S), s.date ? ` (${s.date})` : ""))),
        h("p", {}, h("a", { href: "/facilities/" + encodeURIComponent(f.id) }, "Full page with lifecycle timeline")),
      );
      box.focus();
    } catch (err) { OC.showError(box, err); }
  }

  async function init() {
    state.label = $("map").getAttribute("aria-label");  // ECharts' aria writes its description over it
    state.chart = echarts.init($("map"), null, { renderer: "canvas" });
    window.addEventListener("resize", () => state.chart.resize());
    try {
      const [topo, all, links, commodities, countryRows] = await Promise.all([
        early.atlas, early.facilities, early.links, early.commodities, early.countries]);
      for (const c of countryRows) state.numeric[c.code] = c.numeric;
      const world = topojson.feature(topo, topo.objects.countries);
      world.features = world.features.filter(f => f.properties.name !== "Antarctica");  // keeps the map readable
      unwrapAntimeridian(world);
      echarts.registerMap("world", world);
      state.world = world;
      state.all = all; state.links = links;
      fillSelect($("f-stage"), Object.keys(OC.STAGE_COLOURS));
      fillSelect($("f-status"), ["announced", "mou", "exploration", "pea", "pfs", "fs", "financed", "construction", "commissioning", "operating", "suspended", "closed"]);
      fillSelect($("f-commodity"), commodities.map(c => c.id));
      const countries = [...new Set(all.map(f => f.country))].sort();
      fillSelect($("f-country"), countries);
      const codes = countryRows.map(c => c.code).filter(c => c !== "WLD" && c !== "OTH");
      fillSelect($("f-from"), codes, CORRIDOR[0]);
      fillSelect($("f-to"), codes, CORRIDOR[1]);
      state.chart.on("click", p => { if (p.data && p.data.id) showDetails(p.data.id); });
      $("filters").addEventListener("change", ev => {
        const corridor = ev.target.id === "f-from" || ev.target.id === "f-to" ? loadCorridor() : Promise.resolve();
        corridor.then(loadFacilities).catch(err => OC.showError($("facility-table"), err));
      });
      await loadCorridor();
      await loadFacilities();
      document.body.dataset.ready = "1";
    } catch (err) { OC.showError($("summary"), err); document.body.dataset.ready = "error"; }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
