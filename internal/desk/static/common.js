// wirestream desk: what both pages share. The read token (when the server
// asks for one) is kept in sessionStorage, or localStorage when the user
// asks, and sent as a bearer header; it never goes into a URL.
"use strict";

const ws = (() => {
  const KEY = "wirestream-read-token";
  let token = sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || "";
  let asking = null;

  function askToken(message) {
    if (asking) return asking;
    const dlg = document.getElementById("token-dialog");
    const form = document.getElementById("token-form");
    const input = document.getElementById("token");
    document.getElementById("token-error").textContent = message || "";
    asking = new Promise((resolve) => {
      form.onsubmit = () => {
        token = input.value.trim();
        sessionStorage.setItem(KEY, token);
        if (document.getElementById("token-keep").checked) localStorage.setItem(KEY, token);
        else localStorage.removeItem(KEY);
        asking = null;
        resolve();
      };
    });
    if (!dlg.open) dlg.showModal();
    input.focus();
    return asking;
  }

  function headers(extra) {
    const h = Object.assign({ Accept: "application/json" }, extra || {});
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  // api fetches a JSON endpoint, asking for the token on a 401 and trying
  // again; other errors throw with the server's message.
  async function api(path, opts) {
    for (;;) {
      const resp = await fetch(path, Object.assign({ headers: headers(), cache: "no-store" }, opts || {}));
      if (resp.status === 401) {
        await askToken(token ? "That token was refused." : "");
        continue;
      }
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        const err = new Error(body.error || resp.status + " " + resp.statusText);
        err.status = resp.status;
        throw err;
      }
      return body;
    }
  }

  // stream reads Server-Sent Events from path (with the token header,
  // which EventSource cannot send), calling onEvent(id, event, data) and
  // onState("live"|"reconnecting"|"connecting"); it reconnects after
  // errors from the last id seen. It returns a function that stops it.
  function stream(path, lastId, onEvent, onState) {
    let stopped = false;
    let ctrl = null;
    let wait = 1000;
    async function run() {
      while (!stopped) {
        onState(lastId ? "reconnecting" : "connecting");
        ctrl = new AbortController();
        try {
          const h = headers({ Accept: "text/event-stream" });
          const sep = path.includes("?") ? "&" : "?";
          const url = lastId ? path + sep + "last_event_id=" + lastId : path;
          const resp = await fetch(url, { headers: h, signal: ctrl.signal, cache: "no-store" });
          if (resp.status === 401) {
            await askToken(token ? "That token was refused." : "");
            continue;
          }
          if (!resp.ok) throw new Error("stream: " + resp.status);
          onState("live");
          wait = 1000;
          const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = "";
          let ev = { id: "", event: "message", data: [] };
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
              let line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line.endsWith("\r")) line = line.slice(0, -1);
              if (line === "") {
                if (ev.data.length) {
                  if (ev.id) lastId = ev.id;
                  onEvent(ev.id, ev.event, ev.data.join("\n"));
                }
                ev = { id: "", event: "message", data: [] };
              } else if (line.startsWith(":")) {
                // comment: heartbeat
              } else {
                const c = line.indexOf(":");
                const field = c < 0 ? line : line.slice(0, c);
                let v = c < 0 ? "" : line.slice(c + 1);
                if (v.startsWith(" ")) v = v.slice(1);
                if (field === "id") ev.id = v;
                else if (field === "event") ev.event = v;
                else if (field === "data") ev.data.push(v);
              }
            }
          }
        } catch (e) {
          if (stopped) return;
        }
        if (stopped) return;
        onState("reconnecting");
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 15000);
      }
    }
    run();
    return () => { stopped = true; if (ctrl) ctrl.abort(); };
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  function ago(t, now) {
    const s = Math.max(0, Math.round(((now || Date.now()) - t) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function bytes(n) {
    const u = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }

  return { api, stream, el, ago, bytes };
})();
