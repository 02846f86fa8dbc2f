// wirestream desk: a world map drawn as SVG from Natural Earth's countries
// (world-atlas countries-110m TopoJSON, shipped with the binary; nothing is
// fetched from elsewhere). Countries are shaded by a count; clicking one
// (or Enter on a focused one) calls onPick with its ISO 3166-1 numeric id.
"use strict";

const worldMap = (() => {
  const W = 960, H = 440, TOP = 84, BOTTOM = -58; // latitudes shown

  // decode turns a TopoJSON topology into [{id, name, rings: [[[x, y]...]...]}]
  // in longitude/latitude.
  function decode(topo) {
    const [sx, sy] = topo.transform.scale, [tx, ty] = topo.transform.translate;
    const arcs = topo.arcs.map((arc) => {
      let x = 0, y = 0;
      return arc.map(([dx, dy]) => { x += dx; y += dy; return [x * sx + tx, y * sy + ty]; });
    });
    const ring = (idx) => {
      const pts = [];
      for (const i of idx) {
        const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
        pts.push(...(pts.length ? a.slice(1) : a));
      }
      return pts;
    };
    return topo.objects.countries.geometries.map((g) => {
      let polys = [];
      if (g.type === "Polygon") polys = [g.arcs];
      else if (g.type === "MultiPolygon") polys = g.arcs;
      return { id: g.id || "", name: (g.properties && g.properties.name) || "", rings: polys.flatMap((p) => p.map(ring)) };
    });
  }

  const px = (lon) => ((lon + 180) / 360) * W;
  const py = (lat) => ((TOP - lat) / (TOP - BOTTOM)) * H;

  function path(rings) {
    let d = "";
    for (const r of rings) {
      r.forEach(([lon, lat], i) => {
        d += (i ? "L" : "M") + px(lon).toFixed(1) + " " + py(Math.max(BOTTOM, Math.min(TOP, lat))).toFixed(1);
      });
      d += "Z";
    }
    return d;
  }

  // Sequential shades, light to dark, each with enough contrast against
  // the page background to be told apart from "none".
  const SHADES = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"];

  async function create(container, onPick) {
    const resp = await fetch("/static/countries-110m.json");
    const countries = decode(await resp.json());
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", "World map of the last hour's stories; countries with stories can be focused and chosen as a filter");
    const byID = new Map();
    for (const c of countries) {
      const p = document.createElementNS(NS, "path");
      p.setAttribute("d", path(c.rings));
      p.setAttribute("class", "country");
      p.dataset.id = c.id;
      const title = document.createElementNS(NS, "title");
      title.textContent = c.name;
      p.append(title);
      p.addEventListener("click", () => c.id && onPick(c.id));
      p.addEventListener("keydown", (e) => { if ((e.key === "Enter" || e.key === " ") && c.id) { e.preventDefault(); onPick(c.id); } });
      svg.append(p);
      if (c.id) byID.set(c.id, { path: p, title, name: c.name });
    }
    container.replaceChildren(svg);
    return {
      // shade sets each country's count (a Map of numeric id → count).
      shade(counts, selected) {
        let maxN = 0;
        for (const n of counts.values()) maxN = Math.max(maxN, n);
        for (const [id, c] of byID) {
          const n = counts.get(id) || 0;
          if (n > 0) {
            const k = Math.min(SHADES.length - 1, Math.floor((Math.log(n) / Math.log(maxN + 1)) * SHADES.length));
            c.path.style.fill = SHADES[k];
            c.path.setAttribute("tabindex", "0");
            c.path.setAttribute("role", "button");
            c.path.setAttribute("aria-label", `${c.name}: ${n} ${n === 1 ? "story" : "stories"}`);
            c.title.textContent = `${c.name}: ${n}`;
          } else {
            c.path.style.fill = "";
            c.path.removeAttribute("tabindex");
            c.path.removeAttribute("role");
            c.path.removeAttribute("aria-label");
            c.title.textContent = c.name;
          }
          c.path.classList.toggle("selected", selected.has(id));
        }
        return maxN;
      },
      shades: SHADES,
    };
  }

  return { create, decode };
})();
