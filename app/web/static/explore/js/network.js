// The actor network: nodes sized by events, edges weighted by shared events, laid out by
// d3-force (run to rest before drawing, so that the picture does not move under the reader).
const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** Draw `network` (the API's answer) into `box`; `onActor(id)` when an actor is chosen. */
export function drawNetwork(box, network, onActor) {
  const d3 = window.d3;
  const width = Math.max(300, box.clientWidth || 600);
  const height = Math.min(420, Math.max(260, width * 0.6));
  const nodes = network.nodes.map((n) => ({ ...n }));
  const links = network.edges.map((e) => ({ ...e }));
  const maxEvents = Math.max(1, ...nodes.map((n) => n.events));
  const maxWeight = Math.max(1, ...links.map((e) => e.weight));
  const radius = (n) => 5 + 16 * Math.sqrt(n.events / maxEvents);
  const simulation = d3.forceSimulation(nodes)
    .force("link", d3.forceLink(links).id((n) => n.id).distance(70))
    .force("charge", d3.forceManyBody().strength(-160))
    .force("center", d3.forceCenter(width / 2, height / 2))
    .force("x", d3.forceX(width / 2).strength(0.07))
    .force("y", d3.forceY(height / 2).strength(0.1))
    .force("collide", d3.forceCollide().radius((n) => radius(n) + 3))
    .stop();
  for (let i = 0; i < 300; i += 1) simulation.tick();
  for (const n of nodes) {
    n.x = Math.max(20, Math.min(width - 20, n.x));
    n.y = Math.max(14, Math.min(height - 14, n.y));
  }
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": "Network of actors" });
  const defs = el("defs");
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#6b6b6b" }));
  defs.append(marker);
  svg.append(defs);
  for (const link of links) {
    const { source: s, target: t } = link;
    const dx = t.x - s.x, dy = t.y - s.y, len = Math.hypot(dx, dy) || 1;
    const end = link.directed ? radius(t) + 2 : 0;
    const line = el("line", {
      class: "edge", x1: s.x, y1: s.y, x2: t.x - (dx / len) * end, y2: t.y - (dy / len) * end,
      "stroke-width": 1 + 5 * (link.weight / maxWeight),
    });
    if (link.directed) line.setAttribute("marker-end", "url(#arrow)");
    const title = el("title");
    title.textContent = `${s.name} ${link.directed ? "→" : "–"} ${t.name}: ${link.weight} shared event${link.weight === 1 ? "" : "s"}`;
    line.append(title);
    svg.append(line);
  }
  for (const n of nodes) {
    const g = el("g", { class: "node", tabindex: "0", role: "button", "data-actor": n.id,
      "aria-label": `${n.name}, ${n.events} event${n.events === 1 ? "" : "s"}: filter to this actor` });
    g.append(el("circle", { cx: n.x, cy: n.y, r: radius(n), fill: n.kind === "person" ? "#c25400" : "#0b5cad" }));
    const label = el("text", { x: n.x + radius(n) + 3, y: n.y + 4 });
    label.textContent = n.name;
    g.append(label);
    g.addEventListener("click", () => onActor(n.id));
    g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onActor(n.id); } });
    svg.append(g);
  }
  box.replaceChildren(svg);
}
