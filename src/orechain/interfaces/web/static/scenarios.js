/* Scenario fan charts: load a built-in scenario, change its assumptions in a form (or its YAML), rerun it as a
   job, poll its progress and redraw. The form's fields come from the API (GET /api/v1/scenarios/builtin/{name},
   POST /api/v1/scenarios/fields): one per number the scenario sets, with label, unit and the schema's limits, and
   where its value sits in the YAML, so a changed field rewrites only that value (comments and sources stay). */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const h = OC.h;
  const chart = echarts.init($("fan"), null, { renderer: "canvas" });
  window.addEventListener("resize", () => chart.resize());
  const RUN_DEFAULTS = { scenarios: 20000, seed: 1 };
  const JSON_POST = { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" } };

  // builtin: ref -> the built-in's field; baseText: the YAML the fields were read from; edits: key -> new value
  const state = { builtinText: "", builtin: new Map(), baseText: "", fields: [], edits: new Map(), spec: {} };

  const shown = f => (state.edits.has(f.key) ? state.edits.get(f.key) : String(f.value));
  const numeric = f => f.kind === "number" || f.kind === "integer";
  const same = (f, a, b) => (numeric(f) ? Number(a) === Number(b) : String(a) === String(b));
  const literal = (f, v) => (f.kind === "date" ? JSON.stringify(v) : String(v).trim());
  const unitOf = f => (f.unit ? " " + f.unit : "");

  /* A field's source and quality as the YAML records them: the nearest enclosing mapping (the value's own, its
     distribution's, its gate's, its project's...) with a source: or quality:. None: a scenario setting (horizon,
     targets, thresholds: what is asked, not a measured figure). */
  function provenance(key) {
    const parts = (key.match(/[^.[\]]+/g) || []).map(p => (/^\d+$/.test(p) ? Number(p) : p));
    const chain = [state.spec];
    for (const p of parts) {
      const last = chain[chain.length - 1];
      chain.push(last !== null && typeof last === "object" ? last[p] : undefined);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const o = chain[i];
      if (o === null || typeof o !== "object" || Array.isArray(o)) continue;
      if (o.source || o.quality) {
        const quality = String(o.quality || "unconfirmed");
        const text = o.source ? String(o.source) + (o.note && quality === "assumption" ? " — " + String(o.note).trim() : "")
                              : String(o.note || "").trim() || "no source given in the YAML";
        return { quality, text };
      }
    }
    return { quality: "setting", text: "Scenario setting: what the scenario asks (a choice, not a measured figure)" };
  }

  /* The YAML with every edited field's value replaced in place (last first, so offsets stay valid). */
  function currentText() {
    let t = state.baseText;
    const edited = state.fields.filter(f => state.edits.has(f.key)).sort((a, b) => b.start - a.start);
    for (const f of edited) t = t.slice(0, f.start) + literal(f, state.edits.get(f.key)) + t.slice(f.end);
    return t;
  }

  /* What the schema allows, as a message; "" when the value is fine. */
  function problem(f, raw) {
    const v = String(raw).trim();
    if (v === "") return "required";
    if (f.kind === "date") return /^\d{4}-\d{2}-\d{2}$/.test(v) ? "" : "a date, YYYY-MM-DD";
    if (!numeric(f)) return f.options && !f.options.includes(v) ? "one of " + f.options.join(", ") : "";
    const x = Number(v);
    if (!Number.isFinite(x)) return "a number";
    if (f.kind === "integer" && !Number.isInteger(x)) return "a whole number";
    if (f.minimum !== null && x < f.minimum) return `at least ${f.minimum}`;
    if (f.exclusive_minimum !== null && x <= f.exclusive_minimum) return `more than ${f.exclusive_minimum}`;
    if (f.maximum !== null && x > f.maximum) return `at most ${f.maximum}`;
    if (f.exclusive_maximum !== null && x >= f.exclusive_maximum) return `less than ${f.exclusive_maximum}`;
    return "";
  }

  function showFieldError(i, message) {
    const input = $("f-" + i), out = $("f-" + i + "-err");
    out.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function onEdit(i) {
    const f = state.fields[i], v = $("f-" + i).value;
    showFieldError(i, problem(f, v));
    if (same(f, f.value, v)) state.edits.delete(f.key); else state.edits.set(f.key, v);
    $("s-yaml").value = currentText();
    renderChanges();
  }

  function renderFields() {
    const box = $("s-fields"), groups = new Map();
    state.fields.forEach((f, i) => {
      if (!groups.has(f.group)) groups.set(f.group, []);
      groups.get(f.group).push([f, i]);
    });
    box.replaceChildren(...[...groups].map(([group, items]) => h("fieldset", { class: "filters" },
      h("legend", { "data-prose": "the group's name" }, group),
      items.map(([f, i]) => {
        const id = "f-" + i, common = { id, "data-key": f.key, "data-ref": f.ref, "aria-describedby": `${id}-err ${id}-src`,
                                        on: { input: () => onEdit(i) } };  // "input" fires for selects too; "change" would redo it
        const input = f.kind === "enum"
          ? h("select", common, f.options.map(o => h("option", { value: o, selected: o === shown(f) }, o)))
          : h("input", Object.assign({ type: f.kind === "date" ? "date" : "number", value: shown(f), required: true,
              step: f.kind === "integer" ? "1" : "any", min: f.minimum ?? f.exclusive_minimum ?? null,
              max: f.maximum ?? f.exclusive_maximum ?? null, style: "width:7rem" }, common));
        return h("span", { class: "field" },
          h("label", { for: id, title: f.help || null }, f.label, h("span", { class: "muted" }, unitOf(f) ? ` (${f.unit})` : "")),
          " ", input, " ", h("span", { id: id + "-err", class: "error field-error", "data-prose": "the schema's limits" }));
      }))));
  }

  /* The inputs table: each field's value now and the source and quality the YAML gives it (an edited value is
     marked as the user's input, beside the YAML's value and its source). */
  function renderInputs() {
    const rows = state.fields.map((f, i) => {
      const p = provenance(f.key), v = shown(f), edited = state.edits.has(f.key);
      const value = edited
        ? h("span", { "data-user-input": "typed in the form" }, `${v} (your input; the YAML has ${f.value})`)
        : String(v);
      return h("tr", { id: "in-" + i, "data-ref": f.ref },
        h("td", {}, f.group), h("td", {}, f.label), h("td", { class: "num" }, value), h("td", {}, f.unit || ""),
        h("td", {}, h("cite", { id: `f-${i}-src`, "data-quality": p.quality }, p.text)), h("td", {}, p.quality));
    });
    const head = h("thead", {}, h("tr", {}, ["Group", "Assumption", "Value", "Unit", "Source (from the YAML)", "Quality"]
      .map(c => h("th", { scope: "col" }, c))));
    $("s-inputs").replaceChildren(h("table", {}, head, h("tbody", {}, rows)));
  }

  function renderChanges() {
    const items = [], now = new Set(state.fields.map(f => f.ref));
    const cite = i => [" ", h("a", { href: "#in-" + i, title: "this input's source and quality" }, "[source]")];
    state.fields.forEach((f, i) => {
      const b = state.builtin.get(f.ref), v = shown(f);
      if (!b) items.push([f.ref, [`${f.group}: ${f.label}: added, ${v}${unitOf(f)}`, ...cite(i)], true]);
      else if (!same(f, b.value, v)) items.push([f.ref, [`${f.group}: ${f.label}: ${b.value} → ${v}${unitOf(f)}`, ...cite(i)], false]);
    });
    for (const [ref, b] of state.builtin) if (!now.has(ref)) items.push([ref, [`${b.group}: ${b.label}: removed (was ${b.value}${unitOf(b)})`], true]);
    for (const [key, label] of [["scenarios", "Scenarios (draws)"], ["seed", "Seed"]]) {
      const v = Number($(key === "scenarios" ? "s-n" : "s-seed").value);
      if (v !== RUN_DEFAULTS[key]) items.push([key, [`Run setting: ${label}: ${RUN_DEFAULTS[key]} → ${v}`], true]);
    }
    if (!items.length && currentText() !== state.builtinText) items.push(["text", ["Edited text in the YAML (no number changed)"], true]);
    $("s-changes").replaceChildren(...items.map(([ref, parts, input]) =>
      h("li", { "data-ref": ref, "data-user-input": input ? "your change" : null }, parts)));
    $("s-changes-count").textContent = String(items.length);
    renderInputs();
  }

  function setForm(text, fields, spec) {
    state.spec = spec || {};
    state.baseText = text;
    state.fields = fields;
    state.edits = new Map();
    $("s-yaml").value = text;
    $("s-yaml-error").textContent = "";
    renderFields();
    renderChanges();
  }

  async function loadBuiltin() {
    const d = await OC.api("/api/v1/scenarios/builtin/" + encodeURIComponent($("s-builtin").value));
    state.builtinText = d.yaml;
    state.builtin = new Map(d.fields.map(f => [f.ref, f]));
    setForm(d.yaml, d.fields, d.spec);
  }

  /* The advanced box was edited: read its fields again (the YAML is the truth). False when it is not YAML. */
  async function syncFromYaml() {
    const text = $("s-yaml").value;
    if (text === currentText()) return true;
    try {
      const d = await OC.api("/api/v1/scenarios/fields", Object.assign({ body: JSON.stringify({ yaml: text }) }, JSON_POST));
      setForm(text, d.fields, d.spec);
      return true;
    } catch (err) {
      $("s-yaml-error").textContent = err.message + describe(err.body);
      $("s-advanced").open = true;
      return false;
    }
  }

  function describe(body) {
    const d = body && body.error && Array.isArray(body.error.details) ? body.error.details : [];
    return d.length ? " — " + d.map(p => `${p.line ? "line " + p.line + ": " : ""}${p.field ? p.field + ": " : ""}${p.message}`).join("; ") : "";
  }

  /* The API's validation errors, each next to the field it names (or the first field under it, or on its line). */
  function showApiErrors(details) {
    const general = [];
    let first = null;
    for (const p of details) {
      let i = p.field ? state.fields.findIndex(f => f.key === p.field) : -1;
      if (i < 0 && p.field) i = state.fields.findIndex(f => f.key.startsWith(p.field + ".") || f.key.startsWith(p.field + "["));
      if (i < 0 && p.line) i = state.fields.findIndex(f => f.line === p.line);
      if (i < 0) { general.push(`${p.line ? "line " + p.line + ": " : ""}${p.field ? p.field + ": " : ""}${p.message}`); continue; }
      const prev = $("f-" + i + "-err").textContent;
      showFieldError(i, (prev ? prev + "; " : "") + p.message);
      if (first === null) first = i;
    }
    $("s-errors").replaceChildren(...(general.length ? [h("p", { class: "error" }, general.join("; "))] : []));
    if (first !== null) { $("f-" + first).scrollIntoView({ block: "center" }); $("f-" + first).focus(); }
  }

  /* The run a result came from: its job id, draws, seed and the inputs it was given (the changes listed at
     submission, and the inputs table with each one's source). Every result drawn names it (data-run). */
  function recordRun(job, res, changes) {
    const rec = $("s-run-record");
    rec.dataset.runRecord = job.id;
    rec.replaceChildren(`Model output, not observations: run ${job.id.slice(0, 8)} (job `, h("code", {}, job.id),
      `${job.cached ? ", from the cache" : ""}), ${res.scenarios.toLocaleString("en-GB")} draws, seed ${res.seed}, `,
      changes.length ? `with ${changes.length} change(s) from the built-in scenario (${changes.join("; ")}); ` : "of the built-in scenario as it is; ",
      "its inputs and their sources: ", h("a", { href: "#s-inputs-box" }, "Inputs and their sources"), ".");
    for (const id of ["s-summary", "s-table"]) $(id).dataset.run = job.id;
  }

  function draw(res) {
    const flow = res.fan.filter(r => r.metric === "flow"), demand = res.fan.filter(r => r.metric === "demand");
    const years = flow.map(r => r.year);
    const band = (lo, hi) => flow.map(r => r[hi] - r[lo]);
    $("s-title").textContent = `${res.title}: independent-chain capacity (${res.unit}), ${res.scenarios.toLocaleString("en-GB")} scenarios, seed ${res.seed}`;
    chart.setOption({
      animation: false, aria: { enabled: true, label: { description: $("fan").getAttribute("aria-label") } },
      tooltip: { trigger: "axis" }, legend: { bottom: 0, data: ["p5-p95", "p25-p75", "median", "demand (median)"] },
      grid: { left: 80, right: 90, top: 30, bottom: 60 },
      xAxis: { type: "category", data: years, boundaryGap: false },
      yAxis: [{ type: "value", name: "capacity, " + res.unit, nameLocation: "middle", nameGap: 60 },
              { type: "value", name: "demand (right axis)", nameLocation: "middle", nameGap: 70, splitLine: { show: false } }],
      series: [
        { name: "p5", type: "line", data: flow.map(r => r.p5), stack: "outer", lineStyle: { opacity: 0 }, symbol: "none" },
        { name: "p5-p95", type: "line", data: band("p5", "p95"), stack: "outer", lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "#c6dbef" } },
        { name: "p25", type: "line", data: flow.map(r => r.p25), stack: "inner", lineStyle: { opacity: 0 }, symbol: "none" },
        { name: "p25-p75", type: "line", data: band("p25", "p75"), stack: "inner", lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "#6baed6" } },
        { name: "median", type: "line", data: flow.map(r => r.p50), lineStyle: { width: 2.5, color: "#08306b" }, symbol: "none" },
        { name: "demand (median)", type: "line", yAxisIndex: 1, data: demand.map(r => r.p50), lineStyle: { type: "dashed", color: "#d7301f" }, symbol: "none" },
      ],
    }, { notMerge: true });
    $("s-summary").replaceChildren(...res.summary.map(s => h("li", {}, s)));
    $("s-table").replaceChildren(OC.table([
      { label: "Year", cell: r => r.year }, { label: "P5", num: true, cell: r => OC.fmt(r.p5) }, { label: "P25", num: true, cell: r => OC.fmt(r.p25) },
      { label: "Median", num: true, cell: r => OC.fmt(r.p50) }, { label: "P75", num: true, cell: r => OC.fmt(r.p75) },
      { label: "P95", num: true, cell: r => OC.fmt(r.p95) }, { label: "Mean", num: true, cell: r => OC.fmt(r.mean) }], flow,
      "Model output, not observations, of the run named above the chart; each input's source and quality are under \"Inputs and their sources\"."));
  }

  async function run(ev) {
    ev.preventDefault();
    $("s-errors").replaceChildren();
    if (!(await syncFromYaml())) { document.body.dataset.run = "error"; return; }
    let bad = null;
    state.fields.forEach((f, i) => {
      const msg = problem(f, $("f-" + i).value);
      showFieldError(i, msg);
      if (msg && bad === null) bad = i;
    });
    if (bad !== null) { $("f-" + bad).focus(); $("s-state").textContent = "fix the marked fields first"; document.body.dataset.run = "error"; return; }
    $("s-run").disabled = true;
    document.body.dataset.run = "running";
    try {
      const body = { yaml: currentText(), scenarios: Number($("s-n").value), seed: Number($("s-seed").value) };
      const submitted = [...$("s-changes").children].map(li => li.firstChild.textContent);
      let st = await OC.api("/api/v1/scenarios/jobs", Object.assign({ body: JSON.stringify(body) }, JSON_POST));
      let seen = 0;  // with several server processes a poll may read the stored progress, up to a heartbeat old
      while (st.state === "queued" || st.state === "running") {
        seen = Math.max(seen, st.progress);
        $("s-progress").value = seen;
        $("s-state").textContent = `${st.state}: ${Math.round(seen * 100)}%`;
        await new Promise(r => setTimeout(r, 200));
        st = await OC.api("/api/v1/scenarios/jobs/" + st.id);
      }
      $("s-progress").value = st.progress;
      if (st.state !== "done") throw new Error(`${st.state}: ${st.error}`);
      const res = await OC.api(`/api/v1/scenarios/jobs/${st.id}/result`);
      draw(res.result);
      recordRun(st, res.result, submitted);
      $("s-state").textContent = `done (${st.id.slice(0, 8)}${st.cached ? ", from the cache" : ""})`;
      document.body.dataset.run = "done";
    } catch (err) {
      const details = err.status === 422 && err.body && err.body.error && Array.isArray(err.body.error.details) ? err.body.error.details : null;
      if (details) showApiErrors(details);
      $("s-state").replaceChildren(h("span", { class: "error", role: "alert" }, err.message + (details ? " (shown next to the fields)" : describe(err.body))));
      document.body.dataset.run = "error";
    } finally { $("s-run").disabled = false; }
  }

  async function init() {
    try {
      const names = (await OC.api("/api/v1/scenarios/builtin")).data;
      for (const n of names) $("s-builtin").append(h("option", { value: n }, n));
      if (names.includes("pakistan-us")) $("s-builtin").value = "pakistan-us";
      const reload = () => loadBuiltin().catch(err => OC.showError($("s-errors"), err));
      $("s-builtin").addEventListener("change", reload);
      $("s-reset").addEventListener("click", () => {
        $("s-n").value = RUN_DEFAULTS.scenarios; $("s-seed").value = RUN_DEFAULTS.seed; reload();
      });
      for (const id of ["s-n", "s-seed"]) $(id).addEventListener("input", renderChanges);
      $("s-yaml").addEventListener("change", () => syncFromYaml());
      $("scenario-form").addEventListener("submit", run);
      // a link to an input's source opens the (closed) inputs table it points into
      document.addEventListener("click", ev => {
        if (ev.target.closest("a[href^='#in-'], a[href='#s-inputs-box']")) $("s-inputs-box").open = true;
      });
      await loadBuiltin();
      document.body.dataset.ready = "1";
    } catch (err) { OC.showError($("s-errors"), err); document.body.dataset.ready = "error"; }
  }
  init();
})();
