// wirestream pipeline page: each stage's rate, lag, in-flight and
// redelivered inputs, handler latency and dead letters; the last dead
// letters with their reasons; feed pollers, webhooks and streams. It reads
// GET /v1/desk/pipeline every 2 s; rates and latencies are over the last
// refresh.
"use strict";

(() => {
  const { api, el, ago, bytes } = ws;
  const EVERY = 2000;
  const $ = (id) => document.getElementById(id);
  let prev = null;
  const history = {}; // stage → recent rates, for the spark line

  function ms(sec) {
    if (!isFinite(sec)) return "—";
    const m = sec * 1000;
    return m < 1 ? (m * 1000).toFixed(0) + " µs" : m < 100 ? m.toFixed(1) + " ms" : m.toFixed(0) + " ms";
  }

  // quantile estimates the q-quantile of the observations between two
  // cumulative histograms (the bucket's upper bound).
  function quantile(h, p, q) {
    if (!h) return NaN;
    const base = p ? p.buckets : h.buckets.map(() => 0);
    const total = h.count - (p ? p.count : 0);
    if (total <= 0) return NaN;
    for (let i = 0; i < h.bounds.length; i++) {
      if (h.buckets[i] - base[i] >= q * total) return h.bounds[i];
    }
    return Infinity;
  }

  function spark(values) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 60 16");
    svg.setAttribute("class", "spark");
    svg.setAttribute("aria-hidden", "true");
    const maxV = Math.max(1, ...values);
    const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 60},${16 - (v / maxV) * 15}`).join(" ");
    const pl = document.createElementNS(NS, "polyline");
    pl.setAttribute("points", pts);
    svg.append(pl);
    return svg;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
    if (!rows.length) tbody.append(el("tr", {}, el("td", { colspan: tbody.parentElement.tHead.rows[0].cells.length, class: "none" }, "none")));
  }

  function draw(v) {
    const now = Date.parse(v.time);
    const dt = prev ? (now - Date.parse(prev.time)) / 1000 : 0;
    const prevStage = new Map(prev ? prev.stages.map((s) => [s.name, s]) : []);
    fill($("stages").tBodies[0], v.stages.map((s) => {
      const p = prevStage.get(s.name);
      const rate = p && dt > 0 ? Math.max(0, (s.done - p.done) / dt) : NaN;
      const hist = (history[s.name] = (history[s.name] || []).concat(isFinite(rate) ? [rate] : []).slice(-30));
      let mean = NaN, p99 = NaN;
      if (s.handler) {
        const ph = p && p.handler;
        const dc = s.handler.count - (ph ? ph.count : 0);
        if (dc > 0) mean = (s.handler.sum - (ph ? ph.sum : 0)) / dc;
        p99 = quantile(s.handler, ph, 0.99);
      }
      return el("tr", { "data-stage": s.name, class: s.exists ? "" : "absent" },
        el("th", { scope: "row" }, s.name, s.exists ? "" : " (no consumer yet)"),
        el("td", { class: "num rate" }, isFinite(rate) ? rate.toFixed(rate < 10 ? 1 : 0) : "—", " ", spark(hist)),
        el("td", { class: "num done" }, s.done.toLocaleString()),
        el("td", { class: "num lag" + (s.pending > 1000 ? " warn" : "") }, s.pending.toLocaleString()),
        el("td", { class: "num" }, String(s.ack_pending)),
        el("td", { class: "num" + (s.redelivered ? " warn" : "") }, String(s.redelivered)),
        el("td", { class: "num" }, s.handler ? ms(mean) : "elsewhere"),
        el("td", { class: "num" }, s.handler ? (p99 === Infinity ? "> 1 s" : ms(p99)) : "elsewhere"),
        el("td", { class: "num" + (s.dead_letters ? " bad" : "") }, String(s.dead_letters)),
        el("td", { class: "num" }, String(s.waiting)));
    }));

    const counts = $("dl-counts");
    const entries = Object.entries(v.dead_letters.by_subject).sort();
    counts.replaceChildren(...(entries.length ? entries.map(([k, n]) => el("li", {}, el("code", {}, k), ": ", el("strong", {}, String(n))))
      : [el("li", {}, "No dead letters.")]));
    fill($("dl-last").tBodies[0], v.dead_letters.last.map((d) => el("tr", {},
      el("td", {}, el("time", { datetime: d.stored, title: d.stored }, ago(Date.parse(d.stored), now))),
      el("td", {}, d.stage || d.subject),
      el("td", { class: "reason" }, d.reason || "—", d.kind ? el("span", { class: "kind" }, " (" + d.kind + ")") : null),
      el("td", { class: "input" }, d.story_uri ? el("code", {}, d.story_uri) : null, d.source ? " from " + d.source : "", el("pre", {}, d.head)))));

    fill($("feeds").tBodies[0], v.feeds.map((f) => el("tr", { class: f.error ? "failing" : "" },
      el("th", { scope: "row" }, f.name),
      el("td", {}, f.holder || "nobody", f.lease_expires ? ` (lease ${ago(Date.parse(f.lease_expires), now).replace(" ago", "")} ${Date.parse(f.lease_expires) > now ? "left" : "over"})` : ""),
      el("td", {}, f.last_success ? ago(Date.parse(f.last_success), now) : "never"),
      el("td", {}, f.last_item ? ago(Date.parse(f.last_item), now) : "never"),
      el("td", { class: "num" }, f.items.toLocaleString()),
      el("td", { class: "num" + (f.failures ? " warn" : "") }, String(f.failures)),
      el("td", { class: "reason" }, f.error || "—"))));

    fill($("hooks").tBodies[0], v.webhooks.map((h) => el("tr", {},
      el("th", { scope: "row" }, h.name, h.exists ? "" : " (none yet)"),
      el("td", { class: "num" + (h.pending > 100 ? " warn" : "") }, h.pending.toLocaleString()),
      el("td", { class: "num" }, String(h.in_flight)),
      el("td", { class: "num" }, String(h.redelivered)),
      el("td", {}, h.last_active ? ago(Date.parse(h.last_active), now) : "never"),
      el("td", { class: "num" + (h.dead_letters ? " bad" : "") }, String(h.dead_letters)))));

    fill($("streams").tBodies[0], v.streams.map((s) => el("tr", { "data-stream": s.name },
      el("th", { scope: "row" }, s.name),
      el("td", { class: "num msgs" }, s.messages.toLocaleString()),
      el("td", { class: "num" }, bytes(s.bytes)),
      el("td", { class: "num" }, String(s.consumers)),
      el("td", {}, s.last && !s.last.startsWith("0001") ? ago(Date.parse(s.last), now) : "—"))));

    $("ops-error").textContent = (v.errors || []).join("; ");
    $("updated").textContent = new Date(now).toLocaleTimeString();
    $("updated").dataset.time = v.time;
    prev = v;
  }

  async function tick() {
    try {
      draw(await api("/v1/desk/pipeline"));
    } catch (e) {
      $("ops-error").textContent = "The figures could not be read: " + e.message;
    }
    setTimeout(tick, EVERY);
  }
  $("every").textContent = String(EVERY / 1000);
  window.pipelinePage = { ticks: () => (prev ? 1 : 0) };
  tick();
})();
