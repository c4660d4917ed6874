/* Scenario fan charts: load a built-in scenario, edit its assumptions, run it as a job, poll, draw. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const h = OC.h;
  const chart = echarts.init($("fan"), null, { renderer: "canvas" });
  window.addEventListener("resize", () => chart.resize());

  async function loadBuiltin() {
    const d = await OC.api("/api/v1/scenarios/builtin/" + encodeURIComponent($("s-builtin").value));
    $("s-yaml").value = d.yaml;
  }

  function draw(res) {
    const flow = res.fan.filter(r => r.metric === "flow"), demand = res.fan.filter(r => r.metric === "demand");
    const years = flow.map(r => r.year);
    const band = (lo, hi) => flow.map(r => r[hi] - r[lo]);
    $("s-title").textContent = `${res.title}: independent-chain capacity (${res.unit}), ${res.scenarios.toLocaleString("en-GB")} scenarios, seed ${res.seed}`;
    chart.setOption({
      animation: false, aria: { enabled: true },
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
      "Model output, not observations: the inputs and their sources are in the scenario YAML above."));
  }

  async function run(ev) {
    ev.preventDefault();
    $("s-run").disabled = true;
    document.body.dataset.run = "running";
    try {
      const body = { yaml: $("s-yaml").value, scenarios: Number($("s-n").value), seed: Number($("s-seed").value) };
      let st = await OC.api("/api/v1/scenarios/jobs", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
      while (st.state === "queued" || st.state === "running") {
        $("s-progress").value = st.progress;
        $("s-state").textContent = `${st.state}: ${Math.round(st.progress * 100)}%`;
        await new Promise(r => setTimeout(r, 200));
        st = await OC.api("/api/v1/scenarios/jobs/" + st.id);
      }
      $("s-progress").value = st.progress;
      if (st.state !== "done") throw new Error(`${st.state}: ${st.error}`);
      const res = await OC.api(`/api/v1/scenarios/jobs/${st.id}/result`);
      draw(res.result);
      $("s-state").textContent = `done (${st.id.slice(0, 8)})`;
      document.body.dataset.run = "done";
    } catch (err) {
      const details = err.body && err.body.error && Array.isArray(err.body.error.details)
        ? err.body.error.details.map(p => `${p.line ? "line " + p.line + ": " : ""}${p.field ? p.field + ": " : ""}${p.message}`).join("; ") : "";
      $("s-state").replaceChildren(h("span", { class: "error", role: "alert" }, err.message + (details ? " — " + details : "")));
      document.body.dataset.run = "error";
    } finally { $("s-run").disabled = false; }
  }

  async function init() {
    try {
      const names = (await OC.api("/api/v1/scenarios/builtin")).data;
      for (const n of names) $("s-builtin").append(h("option", { value: n }, n));
      if (names.includes("pakistan-us")) $("s-builtin").value = "pakistan-us";
      $("s-builtin").addEventListener("change", () => loadBuiltin().catch(err => OC.showError($("s-summary"), err)));
      $("scenario-form").addEventListener("submit", run);
      await loadBuiltin();
      document.body.dataset.ready = "1";
    } catch (err) { OC.showError($("s-summary"), err); document.body.dataset.ready = "error"; }
  }
  init();
})();
