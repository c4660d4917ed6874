/* A small in-test accessibility and provenance checker over the DOM (no axe-core, nothing downloaded).
   Evaluated by the browser tests on every dashboard page; it returns what it found wrong, never fixes anything.

   Provenance: every text in <main> that holds a figure (a digit) must reach a source in one hop:
   - it sits inside, or in the same table row / list item / definition / [data-value] element as, a link to a
     source page (/sources/{id}) or to a document's passage (/documents/{id}#claim-...);
   - or a link to an anchor on the same page whose target holds such a link (model results pointing at the
     sourced inputs they rest on);
   - or it sits inside [data-of-source="{id}"] on that source's (or document's) own page;
   - or, where a page's inputs are not rows of the evidence base (a scenario's YAML), a <cite data-quality> with
     the source's words and a quality (primary, secondary, unconfirmed, assumption; "setting" for what a scenario
     asks, such as its horizon or targets) counts as the source, as a link would;
   - or it is a model result inside [data-run="{run id}"], and the page holds that run's record
     ([data-run-record="{run id}"]: the run's settings), which itself reaches the run's sourced inputs;
   - or it is what the user typed, inside [data-user-input] (saying so).
   Prose is not a figure: headings, table headers and captions, form controls, .legend-note paragraphs, <code>
   ids, alerts, and elements marked [data-prose] (each must say in its text what its numbers are) are skipped.

   Charts: every .chart and [role=img] has a written aria-label (not ECharts' generated "This is a chart..."
   description) and aria-details naming the element that lists
   the same figures, which must exist and pass the provenance check like any other.

   Labels: every visible input, select and textarea has a label with text tied to it explicitly (<label for>,
   aria-label or aria-labelledby; a wrapping <label> alone is not enough for some assistive software); every
   button and link has an accessible name.

   Readable: no visible text in <main> is set smaller than 12 px. */
(() => {
  const SOURCE_PATH = /^\/(sources|documents)\/[^/]+$/;
  const SKIP = "h1, h2, h3, h4, h5, h6, th, caption, label, select, option, textarea, input, button, code, " +
               ".legend-note, [role=alert], [data-prose], script, style, nav, header, footer, .skip";
  const UNIT = "td, dd, li, [data-value], p, figcaption";
  const here = location.pathname;
  const ownId = SOURCE_PATH.test(here) ? decodeURIComponent(here.split("/")[2]) : null;

  function sourceHref(a, followAnchor) {
    const url = new URL(a.getAttribute("href"), location.href);
    if (url.origin !== location.origin) return false;
    if (SOURCE_PATH.test(url.pathname) && url.pathname !== here) return true;
    if (url.pathname === here && url.hash.length > 1) {
      const t = document.getElementById(decodeURIComponent(url.hash.slice(1)));
      if (!t) return false;
      if (ownId && t.closest(`[data-of-source="${CSS.escape(ownId)}"]`)) return true;
      return followAnchor && holdsSource(t, false);
    }
    return false;
  }

  const QUALITIES = ["primary", "secondary", "unconfirmed", "assumption", "setting"];
  function cites(c) { return QUALITIES.includes(c.dataset.quality) && c.textContent.trim().length > 0; }

  function holdsSource(el, followAnchor) {
    if (el.matches("a[href]") && sourceHref(el, followAnchor)) return true;
    if (el.matches("cite[data-quality]") && cites(el)) return true;
    return [...el.querySelectorAll("cite[data-quality]")].some(cites) ||
           [...el.querySelectorAll("a[href]")].some(a => sourceHref(a, followAnchor));
  }

  /* A model result's run: its record is on the page and reaches the sourced inputs (one hop, through an anchor). */
  function runRecorded(el) {
    const run = el.closest("[data-run]");
    if (!run || !run.dataset.run) return false;
    const rec = document.querySelector(`[data-run-record="${CSS.escape(run.dataset.run)}"]`);
    return !!rec && holdsSource(rec, true);
  }

  function describe(el) {
    const id = el.id ? "#" + el.id : "";
    const where = el.closest("[id]");
    return `${el.tagName.toLowerCase()}${id}${where && where !== el ? " in #" + where.id : ""}: "${el.textContent.trim().slice(0, 80)}"`;
  }

  /* Rendered (not display:none, not inside a closed <details>, not visibility:hidden); off-screen counts. */
  function visible(el) { return el.checkVisibility({ visibilityProperty: true }); }

  /* Figures in <main> with no source one hop away. */
  function unsourced(root) {
    const bad = [], seen = new Set();
    let figures = 0;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!/\d/.test(n.textContent)) continue;
      const el = n.parentElement;
      if (!el || el.closest(SKIP)) continue;
      figures += 1;
      if (ownId && el.closest(`[data-of-source="${CSS.escape(ownId)}"]`)) continue;
      if (el.closest("[data-user-input]") || runRecorded(el)) continue;
      const link = el.closest("a[href]");
      if (link && holdsSource(link, true)) continue;
      const unit = el.closest(UNIT) || el.parentElement;
      const row = unit.matches("td") ? unit.closest("tr") : unit;
      if (holdsSource(row, true)) continue;
      if (!seen.has(unit)) { seen.add(unit); bad.push(describe(unit)); }
    }
    return { figures, bad };
  }

  function charts() {
    const bad = [];
    for (const c of document.querySelectorAll("main .chart, main [role=img]")) {
      const label = (c.getAttribute("aria-label") || "").trim();
      if (!label) bad.push(`${describe(c)}: no aria-label`);
      // ECharts' aria, unless given a description, writes a generated one over the label ("This is a chart...")
      else if (/^This is a chart|\bNaN\b|undefined/.test(label)) bad.push(`${describe(c)}: generated aria-label "${label.slice(0, 60)}"`);
      if (c.getAttribute("role") !== "img") bad.push(`${describe(c)}: no role="img"`);
      const ref = c.getAttribute("aria-details");
      const alt = ref && document.getElementById(ref);
      if (!alt) { bad.push(`${describe(c)}: aria-details does not name the table of its figures`); continue; }
      const u = unsourced(alt);
      if (u.figures && u.bad.length) bad.push(`${describe(c)}: its table has unsourced figures`);
    }
    return bad;
  }

  function accessibleName(el) {
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    const by = el.getAttribute("aria-labelledby");
    if (by) return by.split(/\s+/).map(i => (document.getElementById(i) || {}).textContent || "").join(" ").trim();
    if (el.matches("input, select, textarea")) {
      return el.id ? [...document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`)].map(l => l.textContent).join(" ").trim() : "";
    }
    if (el.matches("a, button")) return (el.textContent || "").trim() || (el.getAttribute("title") || "").trim();
    return "";
  }

  function labels() {
    const bad = [];
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, button, a[href]")) {
      if (!visible(el)) continue;
      if (!accessibleName(el)) bad.push(`${describe(el)}: no label or accessible name`);
    }
    return bad;
  }

  function smallText(root) {
    const bad = new Set();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el || !visible(el) || bad.has(el)) continue;
      if (parseFloat(getComputedStyle(el).fontSize) < 12) bad.add(el);
    }
    return [...bad].map(el => `${describe(el)}: ${getComputedStyle(el).fontSize}`);
  }

  const main = document.querySelector("main");
  const nums = unsourced(main);
  return { figures: nums.figures, unsourced: nums.bad, charts: charts(), labels: labels(), small: smallText(main),
           scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth };
})();
