// wirestream desk: the live list of enriched stories, its filters, the
// story view and the map. Stories come from the read API: the newest page
// of GET /v1/stories, then GET /v1/stream from the last id seen.
"use strict";

(() => {
  const { api, stream, el, ago } = ws;
  const ROW_H = 88;        // px, fixed: the list is virtual (only visible rows are in the page)
  const KEEP = 10000;      // stories kept in the session; older ones are let go
  const HOUR = 3600e3;

  const state = {
    items: new Map(),      // uri → item
    order: [],             // uris, newest first
    visible: [],           // items matching the filters, newest first
    regions: [],           // filter codes (alpha-2 or M49)
    topics: [],            // filter codes (medtop:…)
    open: "",              // uri of the story shown
    areas: new Map(),      // code → {code, name, kind, numeric, within}
    byNumeric: new Map(),  // ISO numeric → alpha-2
    topicLabels: new Map(),// medtop code → label
    lastSeq: 0,
    perf: { ingestMs: 0, renderMs: 0, filterMs: 0, renders: 0 },
  };
  const $ = (id) => document.getElementById(id);
  const viewport = $("stories"), spacer = $("spacer");
  let map = null;

  // ---------- stories ----------

  function itemOf(seq, event, s) {
    const places = s.place || [];
    const codes = new Set(places.map((p) => p.code));
    const countries = places.filter((p) => p.scheme === "iso3166-1a2");
    const received = Date.parse(s.ws_received || s.versioncreated || "") || Date.now();
    return {
      uri: s.uri, seq, story: s, killed: event === "kill" || s.pubstatus === "canceled",
      status: (s.dedupe && s.dedupe.status) || "new", version: s.version || "",
      codes, topics: new Set((s.subject || []).map((t) => t.code)), countries, received,
    };
  }

  function older(a, b) {
    const ta = Date.parse(a.versioncreated || "") || 0, tb = Date.parse(b.versioncreated || "") || 0;
    return ta < tb;
  }

  function matches(it) {
    if (state.regions.length && !state.regions.some((c) => it.codes.has(c))) return false;
    if (state.topics.length && !state.topics.some((c) => it.topics.has(c))) return false;
    return true;
  }

  // add takes one output message; it returns true when the list changed.
  function add(seq, event, s) {
    if (!s || !s.uri) return false;
    seq = Number(seq) || 0;
    if (seq > state.lastSeq) state.lastSeq = seq;
    const prev = state.items.get(s.uri);
    if (prev && prev.seq >= seq) return false;
    const it = itemOf(seq, event, s);
    // Versions may reach the output out of order (several workers): an
    // older version stored after a newer one does not replace it, and
    // nothing replaces a kill.
    if (prev && (prev.killed || (!it.killed && older(s, prev.story)))) {
      prev.versions = (prev.versions || 1) + 1;
      return false;
    }
    if (prev) {
      it.versions = (prev.versions || 1) + 1;
      if (it.killed) {
        // A kill strikes the story through where it stands.
        state.items.set(s.uri, it);
        const i = state.visible.indexOf(prev);
        if (i >= 0) state.visible[i] = it;
        const j = state.order.indexOf(s.uri);
        if (j < 0) state.order.unshift(s.uri);
        if (state.open === s.uri) openStory(s.uri, false);
        return true;
      }
      const j = state.order.indexOf(s.uri);
      if (j >= 0) state.order.splice(j, 1);
      const i = state.visible.indexOf(prev);
      if (i >= 0) state.visible.splice(i, 1);
    }
    state.items.set(s.uri, it);
    state.order.unshift(s.uri);
    if (matches(it)) state.visible.unshift(it);
    while (state.order.length > KEEP) {
      const gone = state.items.get(state.order.pop());
      state.items.delete(gone.uri);
      const i = state.visible.lastIndexOf(gone);
      if (i >= 0) state.visible.splice(i, 1);
    }
    if (state.open === s.uri) openStory(s.uri, false);
    return true;
  }

  function refilter() {
    const t0 = performance.now();
    state.visible = [];
    for (const uri of state.order) {
      const it = state.items.get(uri);
      if (matches(it)) state.visible.push(it);
    }
    state.perf.filterMs = performance.now() - t0;
    render(true);
  }

  // ---------- the virtual list ----------

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(false); });
  }

  function chipsFor(it) {
    const chips = [];
    const seen = new Set();
    for (const p of it.story.place || []) {
      if (p.scheme === "geonames" || seen.has(p.code)) continue;
      seen.add(p.code);
      if (p.scheme === "un-m49") {
        const a = state.areas.get(p.code);
        if (!a || a.kind === "region") continue; // continents are too broad for a chip
      }
      chips.push(el("li", { class: "chip region" + (p.rel === "located" ? " located" : ""), title: (p.rel || "") + " · relevance " + (p.relevance || 0) }, p.name || p.code));
      if (chips.length >= 5) break;
    }
    const subs = (it.story.subject || []).slice().sort((a, b) => (b.relevance || 0) - (a.relevance || 0)).slice(0, 3);
    for (const t of subs) chips.push(el("li", { class: "chip topic", title: t.code + " · relevance " + (t.relevance || 0) }, t.name || t.code));
    return chips;
  }

  function statusText(it) {
    if (it.killed) return "kill";
    if (it.status === "update" || it.status === "correction") return it.status + (it.version ? " v" + it.version : "");
    return it.status;
  }

  function row(it, index) {
    const s = it.story;
    const urg = s.urgency || 0;
    const when = new Date(Date.parse(s.versioncreated || "") || it.received);
    const r = el("article", {
      class: "row" + (it.killed ? " killed" : "") + (state.open === it.uri ? " open" : ""),
      tabindex: "0", "aria-posinset": index + 1, "aria-setsize": state.visible.length,
      "aria-label": (it.killed ? "Killed: " : "") + (s.headline || s.uri),
      "data-uri": it.uri,
    },
      el("div", { class: "meta" },
        urg ? el("span", { class: "urgency u" + urg, title: "urgency " + urg }, "U" + urg) : null,
        el("time", { datetime: when.toISOString(), title: "filed " + when.toISOString() + ", received " + new Date(it.received).toISOString() }, when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
        el("span", { class: "source" }, s.ws_source || ""),
        el("span", { class: "dedupe " + (it.killed ? "kill" : it.status) }, statusText(it)),
        s.located ? el("span", { class: "located" }, s.located) : null),
      el("h3", { class: "headline" }, s.headline || s.uri),
      el("ul", { class: "chips" }, ...chipsFor(it)));
    r.style.top = index * ROW_H + "px"; // CSSOM: the page's CSP allows no inline style attributes
    return r;
  }

  let rendered = new Map(); // uri → element, of the rows in the page
  function render(full) {
    const t0 = performance.now();
    const n = state.visible.length;
    spacer.style.height = n * ROW_H + "px";
    $("count").textContent = String(state.items.size);
    $("empty").hidden = n > 0;
    const top = viewport.scrollTop, h = viewport.clientHeight || 600;
    const from = Math.max(0, Math.floor(top / ROW_H) - 4), to = Math.min(n, Math.ceil((top + h) / ROW_H) + 4);
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.uri : "";
    const next = new Map();
    const frag = document.createDocumentFragment();
    for (let i = from; i < to; i++) {
      const it = state.visible[i];
      let r = full ? null : rendered.get(it.uri);
      if (r && r._item === it && r._index === i) { next.set(it.uri, r); rendered.delete(it.uri); continue; }
      r = row(it, i);
      r._item = it; r._index = i;
      next.set(it.uri, r);
      frag.append(r);
    }
    for (const old of rendered.values()) old.remove();
    rendered = next;
    viewport.append(frag);
    if (focused && next.has(focused) && document.activeElement !== next.get(focused)) next.get(focused).focus({ preventScroll: true });
    state.perf.renderMs = performance.now() - t0;
    state.perf.renders++;
  }

  viewport.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule);
  viewport.addEventListener("click", (e) => {
    const r = e.target.closest(".row");
    if (r) openStory(r.dataset.uri, true);
  });
  viewport.addEventListener("keydown", (e) => {
    const r = e.target.closest ? e.target.closest(".row") : null;
    if (!r) {
      if ((e.key === "ArrowDown" || e.key === "j") && state.visible.length) { e.preventDefault(); focusRow(0); }
      return;
    }
    const i = r._index;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openStory(r.dataset.uri, true); }
    else if (e.key === "ArrowDown" || e.key === "j") { e.preventDefault(); focusRow(i + 1); }
    else if (e.key === "ArrowUp" || e.key === "k") { e.preventDefault(); focusRow(i - 1); }
    else if (e.key === "Home") { e.preventDefault(); focusRow(0); }
    else if (e.key === "End") { e.preventDefault(); focusRow(state.visible.length - 1); }
  });
  function focusRow(i) {
    if (i < 0 || i >= state.visible.length) return;
    const top = i * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_H - viewport.clientHeight;
    render(false);
    const r = rendered.get(state.visible[i].uri);
    if (r) r.focus({ preventScroll: true });
  }

  // ---------- filters and the URL ----------

  function resolveRegion(text) {
    const t = text.trim();
    if (!t) return "";
    const up = t.toUpperCase();
    if (state.areas.has(up)) return up;
    if (state.areas.has(t)) return t;
    const low = t.toLowerCase();
    for (const a of state.areas.values()) if (a.name.toLowerCase() === low) return a.code;
    const m = t.match(/\(([A-Z0-9]{2,3})\)\s*$/); // "Uzbekistan (UZ)" from the list
    if (m && state.areas.has(m[1])) return m[1];
    return "";
  }
  function resolveTopic(text) {
    const t = text.trim();
    if (!t) return "";
    if (state.topicLabels.has(t)) return t;
    if (/^\d{8}$/.test(t) && state.topicLabels.has("medtop:" + t)) return "medtop:" + t;
    const low = t.toLowerCase();
    for (const [code, label] of state.topicLabels) if (label.toLowerCase() === low) return code;
    const m = t.match(/\((medtop:\d{8})\)\s*$/);
    if (m && state.topicLabels.has(m[1])) return m[1];
    return "";
  }
  function areaName(code) { const a = state.areas.get(code); return a ? a.name : code; }

  function writeURL() {
    const q = new URLSearchParams();
    if (state.regions.length) q.set("region", state.regions.join(","));
    if (state.topics.length) q.set("topic", state.topics.join(","));
    if (state.open) q.set("story", state.open);
    const qs = q.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }
  async function readURL() {
    const q = new URLSearchParams(location.search);
    const each = async (kind, list) => {
      const out = [];
      for (const v of list.split(",").map((x) => x.trim()).filter(Boolean)) {
        try { const c = await ask(kind, v); if (!out.includes(c)) out.push(c); }
        catch (x) { $("filter-error").textContent = `The link's ${kind} "${v}": ${x.message}`; }
      }
      return out;
    };
    state.regions = await each("region", q.get("region") || "");
    state.topics = await each("topic", q.get("topic") || "");
    state.open = q.get("story") || "";
  }

  function drawChips() {
    const ul = $("chips");
    ul.replaceChildren();
    const chip = (label, kind, remove) => el("li", { class: "chip " + kind },
      label, el("button", { type: "button", class: "remove", "aria-label": "Remove filter " + label, onclick: remove }, "×"));
    for (const c of state.regions) ul.append(chip(areaName(c), "region", () => { state.regions = state.regions.filter((x) => x !== c); changed(); }));
    for (const c of state.topics) ul.append(chip(state.topicLabels.get(c) || c, "topic", () => { state.topics = state.topics.filter((x) => x !== c); changed(); }));
    document.title = "wirestream desk" + (state.regions.length || state.topics.length ? " · " + [...state.regions.map(areaName), ...state.topics.map((c) => state.topicLabels.get(c) || c)].join(", ") : "");
  }

  function changed() {
    writeURL();
    drawChips();
    refilter();
    shadeMap();
  }

  // ask resolves what the user typed with the server's rules (the same as
  // tail's), when the lists loaded here do not know it.
  async function ask(kind, text) {
    const local = kind === "region" ? resolveRegion(text) : resolveTopic(text);
    if (local) return local;
    const r = await api(`/v1/desk/resolve?${kind}=` + encodeURIComponent(text.replace(/\s*\([^)]*\)\s*$/, "").trim()));
    if (kind === "topic" && !state.topicLabels.has(r.code)) state.topicLabels.set(r.code, r.name);
    return r.code;
  }

  $("filters").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("filter-error");
    err.textContent = "";
    const rIn = $("f-region"), tIn = $("f-topic");
    if (rIn.value.trim()) {
      try {
        const c = await ask("region", rIn.value);
        if (!state.regions.includes(c)) state.regions.push(c);
        rIn.value = "";
      } catch (x) {
        err.textContent = x.message; rIn.focus(); return;
      }
    }
    if (tIn.value.trim()) {
      try {
        const c = await ask("topic", tIn.value);
        if (!state.topics.includes(c)) state.topics.push(c);
        tIn.value = "";
      } catch (x) {
        err.textContent = x.message; tIn.focus(); return;
      }
    }
    changed();
  });

  // ---------- the story view ----------

  function evidenceList(evs) {
    return el("ul", { class: "evidence" }, ...evs.slice(0, 8).map((e) => e.text
      ? el("li", {}, el("q", {}, e.text), ` in ${e.field} [${e.start}–${e.end}] `, el("code", {}, e.rule || ""))
      : el("li", {}, e.rule.startsWith("rollup:") ? `the region of ${areaName(e.rule.slice(7))} ` : "", el("code", {}, e.rule || ""))));
  }

  async function openStory(uri, focus) {
    state.open = uri;
    writeURL();
    const pane = $("story"), body = $("story-body");
    pane.hidden = false;
    for (const r of rendered.values()) r.classList.toggle("open", r.dataset.uri === uri);
    if (focus) { body.replaceChildren(el("p", {}, "Loading…")); $("story-h").focus(); }
    let v;
    try {
      v = await api("/v1/desk/story?uri=" + encodeURIComponent(uri));
    } catch (e) {
      body.replaceChildren(el("p", { class: "error" }, "This story cannot be shown: " + e.message));
      return;
    }
    if (state.open !== uri) return;
    const cur = v.versions[v.versions.length - 1];
    const s = cur.story;
    const killed = cur.event === "kill";
    const parts = [
      el("h3", { class: "story-headline" + (killed ? " killed" : "") }, s.headline || s.uri),
      killed ? el("p", { class: "kill-note", role: "note" }, "KILLED: this story was withdrawn. Do not use it.") : null,
      el("p", { class: "story-meta" }, [s.located, s.ws_source, s.urgency ? "urgency " + s.urgency : "", "version " + (s.version || "—"), s.versioncreated].filter(Boolean).join(" · ")),
      el("p", { class: "uri" }, el("code", {}, s.uri)),
      el("div", { class: "story-text" + (killed ? " killed" : "") }, ...(s.body_text || "").split(/\n\s*\n/).map((p) => el("p", {}, p))),
    ];
    const ex = v.explanation;
    if (ex) {
      parts.push(el("h3", {}, "Why these places"));
      parts.push(el("ul", { class: "why places" }, ...ex.places.map((p) =>
        el("li", {}, el("strong", {}, p.name || p.code), ` ${p.code} · ${p.rel || ""} · relevance ${p.relevance}`, evidenceList(p.evidence)))));
      if (!ex.places.length) parts.push(el("p", {}, "No places."));
      parts.push(el("h3", {}, "Why these topics"));
      parts.push(el("ul", { class: "why topics" }, ...ex.topics.map((t) =>
        el("li", {}, el("strong", {}, t.name || t.code), ` ${t.code} · relevance ${t.relevance} · score ${t.score.toFixed(1)}`,
          el("ul", { class: "evidence" }, ...t.terms.slice(0, 8).map((h) => el("li", {}, el("q", {}, h.term), ` in ${h.field} ×${h.count} (${h.weight >= 0 ? "+" : ""}${h.weight.toFixed(1)})`)))))));
      if (!ex.topics.length) parts.push(el("p", {}, "No topics."));
      if (ex.not_cities && ex.not_cities.length) {
        parts.push(el("details", {}, el("summary", {}, "Names not taken as cities"), evidenceList(ex.not_cities)));
      }
    }
    parts.push(el("h3", {}, `Versions (${v.versions.length})`));
    parts.push(el("ol", { class: "versions" }, ...v.versions.map((ver) => {
      const vs = ver.story;
      const li = el("li", {}, el("span", { class: "dedupe " + (ver.event === "kill" ? "kill" : ver.dedupe) }, ver.event === "kill" ? "kill" : ver.dedupe || "new"),
        ` version ${vs.version || "—"} · stored ${new Date(ver.stored).toLocaleString()}`);
      if (ver.headline_before) li.append(el("p", { class: "diff" }, "Headline was: ", el("del", {}, ver.headline_before)));
      if (ver.changes && ver.changes.length) {
        const d = el("p", { class: "diff" });
        for (const c of ver.changes) {
          if (c.op === "=") d.append(c.text.length > 160 ? "… " + c.text.slice(-80) : c.text);
          else d.append(el(c.op === "+" ? "ins" : "del", {}, c.text));
        }
        li.append(d);
      }
      return li;
    })));
    parts.push(el("h3", {}, `Copies and resends the dedupe stage linked (${v.copies.length})`));
    if (v.copies.length) {
      parts.push(el("ul", { class: "copies" }, ...v.copies.map((c) => el("li", {},
        el("span", { class: "dedupe " + c.status }, c.status), " ", c.headline || c.uri,
        c.similarity ? ` · similarity ${c.similarity.toFixed(2)}` : "", c.source ? ` · ${c.source}` : "", " · ", el("code", {}, c.uri)))));
    } else parts.push(el("p", {}, "None."));
    body.replaceChildren(...parts.filter(Boolean));
  }
  $("story-close").addEventListener("click", () => {
    const uri = state.open;
    state.open = "";
    $("story").hidden = true;
    writeURL();
    render(true);
    const r = rendered.get(uri);
    if (r) r.focus(); else viewport.focus();
  });

  // ---------- the map ----------

  function shadeMap() {
    if (!map) return;
    const since = Date.now() - HOUR;
    const counts = new Map();
    for (const it of state.items.values()) {
      if (it.received < since) continue;
      for (const c of new Set(it.countries.map((p) => p.code))) {
        const a = state.areas.get(c);
        if (a && a.numeric) counts.set(a.numeric, (counts.get(a.numeric) || 0) + 1);
      }
    }
    const selected = new Set(state.regions.map((c) => (state.areas.get(c) || {}).numeric).filter(Boolean));
    const maxN = map.shade(counts, selected);
    $("map-legend").textContent = counts.size
      ? `${counts.size} countries; the darkest has ${maxN} ${maxN === 1 ? "story" : "stories"}. Choose a country to filter by it.`
      : "No stories in the last hour.";
  }
  let mapTimer = 0;
  function shadeSoon() { if (!mapTimer) mapTimer = setTimeout(() => { mapTimer = 0; shadeMap(); }, 500); }

  // ---------- start ----------

  function setConn(st) {
    const c = $("conn");
    c.dataset.state = st;
    c.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…" }[st] || st;
  }

  async function start() {
    try {
      const a = await api("/v1/desk/areas");
      const dl = $("areas"), tl = $("topics");
      for (const x of a.areas) {
        state.areas.set(x.code, x);
        if (x.numeric) state.byNumeric.set(x.numeric, x.code);
        dl.append(el("option", { value: `${x.name} (${x.code})` }));
      }
      for (const t of a.topics) {
        state.topicLabels.set(t.code, t.label);
        tl.append(el("option", { value: `${t.label} (${t.code})` }));
      }
    } catch (e) {
      $("filter-error").textContent = "Region and topic names could not be loaded: " + e.message;
    }
    await readURL();
    writeURL();
    drawChips();
    worldMap.create($("map"), (numeric) => {
      const code = state.byNumeric.get(numeric);
      if (!code) return;
      if (state.regions.includes(code)) state.regions = state.regions.filter((c) => c !== code);
      else state.regions.push(code);
      changed();
    }).then((m) => { map = m; shadeMap(); }).catch((e) => { $("map-legend").textContent = "The map could not be drawn: " + e.message; });

    // The newest stories of the last hour (at most 1,000), then live.
    const t0 = performance.now();
    let cursor = "", pages = 0;
    const since = new Date(Date.now() - HOUR).toISOString();
    const batch = [];
    try {
      do {
        const p = await api("/v1/stories?limit=200&since=" + encodeURIComponent(since) + (cursor ? "&cursor=" + cursor : ""));
        p.stories.forEach((s, i) => batch.push([p.seqs[i], s]));
        cursor = p.next || "";
        pages++;
      } while (cursor && pages < 5);
      if (!batch.length) {
        const p = await api("/v1/stories?limit=50");
        p.stories.forEach((s, i) => batch.push([p.seqs[i], s]));
      }
    } catch (e) {
      $("filter-error").textContent = "Stories could not be loaded: " + e.message;
    }
    batch.sort((a, b) => a[0] - b[0]);
    for (const [seq, s] of batch) add(seq, s.pubstatus === "canceled" ? "kill" : "story", s);
    refilter();
    state.perf.ingestMs = performance.now() - t0;
    if (state.open) openStory(state.open, false);
    shadeMap();
    const path = batch.length || state.lastSeq ? "/v1/stream" : "/v1/stream?from=start";
    stream(path, state.lastSeq ? String(state.lastSeq) : "", (id, event, data) => {
      let s;
      try { s = JSON.parse(data); } catch { return; }
      if (add(id, event, s)) { schedule(); shadeSoon(); }
    }, setConn);
  }

  // For tests and the curious: what the page holds and how long it took.
  window.desk = {
    count: () => state.items.size,
    visible: () => state.visible.map((it) => it.uri),
    perf: () => Object.assign({}, state.perf),
    // filter sets the filters (codes) as the form would, at once.
    filter(regions, topics) { state.regions = regions.slice(); state.topics = topics.slice(); changed(); },
    render() { render(false); },
    // measure times the filter and render of the current list, in ms.
    measure() {
      const t0 = performance.now();
      refilter();
      return performance.now() - t0;
    },
  };
  start();
})();
