// irpd console: progressive enhancement only. Pages work without it; with it they follow the
// daemon live over one server-sent event stream per tab (the server reads each change once and
// fans it out), and the override editor shows what changed.
"use strict";
(function () {
  const GROUPS = [
    ["finished", ["FINISHED"], "s-finished"], ["forced ok", ["FORCED_OK"], "s-forced"],
    ["running", ["SUBMITTED", "QUEUED", "PENDING", "RUNNING"], "s-running"],
    ["submitting", ["SUBMITTING"], "s-submitting"], ["waiting", ["INITIATED"], "s-waiting"],
    ["cancelling", ["CANCEL_REQUESTED", "CANCELLING"], "s-cancelling"],
    ["failed", ["FAILED", "ERROR"], "s-failed"], ["cancelled", ["CANCELLED"], "s-cancelled"],
  ];
  const SVG = "http://www.w3.org/2000/svg";
  const body = document.body;
  const live = (body.dataset.live || "").split(",").filter(Boolean);
  const watching = (id) => live.includes("*") || live.includes(String(id));
  let refreshTimer = null;
  let lastRefresh = 0;

  function setText(el, text) {
    if (el.textContent !== text) {
      el.textContent = text;
      el.classList.remove("updated"); void el.offsetWidth; el.classList.add("updated");
      if (el.classList.contains("badge")) el.className = "badge st-" + text.toLowerCase() + " updated";
    }
  }

  function drawProgress(el, counts) {
    const total = Object.values(counts || {}).reduce((a, b) => a + b, 0);
    const svg = el.querySelector("svg"); const legend = el.querySelector(".legend");
    if (!svg || !legend) return;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    legend.textContent = "";
    let x = 0; const words = [];
    for (const [name, statuses, css] of GROUPS) {
      const n = statuses.reduce((a, s) => a + ((counts || {})[s] || 0), 0);
      if (!n) continue;
      const pct = 100 * n / total;
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("class", css); r.setAttribute("x", x.toFixed(2)); r.setAttribute("y", "0");
      r.setAttribute("width", pct.toFixed(2)); r.setAttribute("height", "6");
      svg.appendChild(r); x += pct;
      const key = document.createElement("span"); key.className = "key " + css;
      key.textContent = n + " " + name; legend.appendChild(key); words.push(n + " " + name);
    }
    svg.setAttribute("aria-label", words.join(", ") || "no jobs");
  }

  function applyBatch(row) {
    document.querySelectorAll('[data-batch-id="' + row.batch_id + '"]').forEach((el) => {
      const field = el.dataset.field;
      if (field === "progress") drawProgress(el, row.status_counts);
      else if (field === "completed_ts") setText(el, row.completed_ts ? row.completed_ts.slice(0, 19).replace("T", " ") : "—");
      else if (field in row) setText(el, String(row[field] === null ? 0 : row[field]));
    });
  }

  // regions marked data-refresh (the jobs table, the job's status and timeline) are re-read
  // from the server when a batch they show changed: at most every REFRESH_MS per tab, and not
  // while the tab is hidden (it catches up when shown). Counts, statuses and progress bars
  // come with the event itself and change at once.
  const REFRESH_MS = 10000;
  let missed = false;
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && missed) { missed = false; scheduleRefresh(); }
  });
  function scheduleRefresh() {
    if (!document.querySelector("[data-refresh]") || refreshTimer) return;
    if (document.hidden) { missed = true; return; }
    const wait = Math.max(0, REFRESH_MS - (Date.now() - lastRefresh));
    refreshTimer = setTimeout(async () => {
      refreshTimer = null; lastRefresh = Date.now();
      if (document.activeElement && document.activeElement.closest("[data-refresh] form")) return;
      try {
        const res = await fetch(location.href, { headers: { "X-Requested-With": "refresh" }, credentials: "same-origin" });
        if (!res.ok) return;
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        document.querySelectorAll("[data-refresh]").forEach((el) => {
          const fresh = doc.querySelector('[data-refresh="' + el.dataset.refresh + '"]');
          if (fresh) el.replaceWith(document.importNode(fresh, true));
        });
      } catch (e) { /* offline: the next event tries again */ }
    }, wait);
  }

  function connect() {
    if (!live.length || !window.EventSource) return;
    const state = document.getElementById("live-state");
    const source = new EventSource("/events");
    source.addEventListener("hello", () => { if (state) state.textContent = "live"; });
    source.addEventListener("batches", (ev) => {
      const data = JSON.parse(ev.data);
      let touched = false;
      for (const row of data.batches) if (watching(row.batch_id)) { applyBatch(row); touched = true; }
      if (touched) scheduleRefresh();
    });
    source.addEventListener("resync", () => scheduleRefresh());
    source.onerror = () => { if (state) state.textContent = "reconnecting…"; };
  }

  function loadFragments() {
    document.querySelectorAll("[data-fragment]").forEach(async (el) => {
      try {
        const res = await fetch(el.dataset.fragment, { credentials: "same-origin" });
        if (res.ok) el.innerHTML = await res.text();
      } catch (e) { /* keep the link */ }
    });
  }

  function overrideEditor() {
    const form = document.getElementById("override-editor");
    if (!form) return;
    const out = document.getElementById("override-changes");
    const update = () => {
      const changed = [];
      form.querySelectorAll("input[data-original]").forEach((input) => {
        const differs = input.value !== input.dataset.original;
        input.classList.toggle("changed-field", differs);
        if (differs) changed.push(input.name.slice(6));
      });
      out.textContent = changed.length ? "Changed: " + changed.join(", ") : "No parameter changed yet.";
    };
    form.addEventListener("input", update); update();
  }

  document.addEventListener("DOMContentLoaded", () => { connect(); loadFragments(); overrideEditor(); });
})();
