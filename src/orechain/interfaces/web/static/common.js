/* orechain dashboard: helpers shared by every page. Builds DOM with textContent (never innerHTML with data). */
"use strict";

const OC = {};

OC.h = function (tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "on") { for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn); }
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
};

/* The API token (when the server requires one): kept in this tab's sessionStorage, never in a URL, and sent as
   "Authorization: Bearer" by every OC.api call. The control is in base.html's header. */
OC.TOKEN_KEY = "orechain.apiToken";
OC.token = function () { try { return sessionStorage.getItem(OC.TOKEN_KEY) || ""; } catch (e) { return ""; } };
OC.authProblem = function (status, msg) {
  const box = document.getElementById("oc-token"), out = document.getElementById("oc-token-msg");
  const hint = status === 401 ? (OC.token() ? "The API token was refused (invalid, expired or revoked): enter another."
    : "This server needs an API token: enter it under \"API token\" (top right).")
    : "Your API token's role may not do this; ask an admin for a token with a higher role.";
  if (box) box.open = true;
  if (out) out.textContent = hint;
  return msg + " — " + hint;
};
OC.initToken = function () {
  const form = document.getElementById("oc-token-form");
  if (!form) return;
  const input = document.getElementById("oc-token-input"), state = document.getElementById("oc-token-state");
  state.textContent = OC.token() ? "(set)" : "";
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    sessionStorage.setItem(OC.TOKEN_KEY, input.value.trim());
    location.reload();
  });
  document.getElementById("oc-token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(OC.TOKEN_KEY);
    location.reload();
  });
};
document.addEventListener("DOMContentLoaded", OC.initToken);

OC.api = async function (path, options) {
  const opts = Object.assign({}, options || {});
  const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  if (OC.token()) headers.Authorization = "Bearer " + OC.token();
  opts.headers = headers;
  const res = await fetch(path, opts);
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    let msg = body && body.error ? body.error.message : res.status + " " + res.statusText;
    if (res.status === 401 || res.status === 403) msg = OC.authProblem(res.status, msg);
    const err = new Error(msg); err.status = res.status; err.body = body; throw err;
  }
  return body;
};

/* Every page of a list, following links.next: nothing is silently left out. */
OC.fetchAll = async function (path) {
  let url = path, rows = [];
  while (url) {
    const page = await OC.api(url);
    rows = rows.concat(page.data);
    url = page.links.next;
  }
  return rows;
};

OC.fmt = function (v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v === "number") return v.toLocaleString("en-GB", { maximumFractionDigits: 3 });
  return String(v);
};

/* A number (or any figure) linked to its source page; the link's title names the publication. */
OC.sourced = function (text, sourceId, sources) {
  if (!sourceId) return OC.h("span", { class: "muted", title: "no source recorded" }, text);
  const s = (sources || {})[sourceId];
  const title = s ? `${s.publisher}: ${s.title}${s.date ? " (" + s.date + ")" : ""}` : "source " + sourceId;
  return OC.h("a", { href: "/sources/" + encodeURIComponent(sourceId), title: title, "data-source": sourceId }, text);
};

OC.sourceRef = function (sourceId, sources) { return OC.sourced("[" + sourceId + "]", sourceId, sources); };

OC.showError = function (where, err) {
  where.replaceChildren(OC.h("p", { class: "error", role: "alert" }, "Could not load: " + err.message));
};

OC.kv = function (pairs) {
  const dl = OC.h("dl", { class: "kv" });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(OC.h("dt", {}, k), OC.h("dd", {}, v));
  }
  return dl;
};

OC.table = function (columns, rows, caption) {
  const thead = OC.h("thead", {}, OC.h("tr", {}, columns.map(c => OC.h("th", { scope: "col", class: c.num ? "num" : null }, c.label))));
  const tbody = OC.h("tbody", {}, rows.map(r => OC.h("tr", {}, columns.map(c => OC.h("td", { class: c.num ? "num" : null }, c.cell(r))))));
  return OC.h("table", {}, caption ? OC.h("caption", { class: "muted" }, caption) : null, thead, tbody);
};

OC.STAGE_COLOURS = { mining: "#8c510a", beneficiation: "#bf812d", separation: "#1b7837", metal: "#2166ac",
                     magnet: "#762a83", recycling: "#4d4d4d" };

/* Dates such as "2025", "2025-09" or "2025-09-08" as a time value (start of the period). */
OC.time = function (d) {
  if (!d) return null;
  const s = String(d);
  const iso = s.length === 4 ? s + "-01-01" : s.length === 7 ? s + "-01" : s;
  const t = Date.parse(iso);
  return isNaN(t) ? null : t;
};

/* A lifecycle timeline: points (label, date) and spans (label, start, end) on one time axis. */
OC.timeline = function (el, points, spans, title) {
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const cats = spans.map(s => s.label);
  const option = {
    animation: false,
    aria: { enabled: true, label: { description: title } },
    grid: { left: 170, right: 30, top: 20, bottom: 40 },
    xAxis: { type: "time" },
    yAxis: { type: "category", data: cats.concat([spans.length ? "signed" : "status"]), inverse: true },
    tooltip: { trigger: "item", formatter: p => p.data.tip },
    series: [
      { type: "custom", name: "phases", encode: { x: [1, 2], y: 0 },
        renderItem: function (params, api) {
          const y = api.value(0), a = api.coord([api.value(1), y]), b = api.coord([api.value(2), y]);
          const hgt = api.size([0, 1])[1] * 0.5;
          return { type: "rect", shape: { x: a[0], y: a[1] - hgt / 2, width: Math.max(b[0] - a[0], 3), height: hgt },
                   style: api.style({ fill: "#9ecae1" }) };
        },
        data: spans.map((s, i) => ({ value: [i, s.start, s.end], tip: s.tip })) },
      { type: "scatter", name: "events", symbolSize: 12, itemStyle: { color: "#0a58ca" },
        data: points.map(p => ({ value: [p.date, p.row === undefined ? cats.length : p.row], tip: p.tip })) },
    ],
  };
  chart.setOption(option);
  window.addEventListener("resize", () => chart.resize());
  return chart;
};
