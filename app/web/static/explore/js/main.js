// The explorer: the URL holds the whole state; every view is drawn from the public API.
import { ApiError, LISTS, SCALARS, cached, filterParams, getJSON } from "./api.js";
import { drawPlaces, followMap, loadPlaces, setupMap, showArea, visibleArea } from "./map.js";
import { drawNetwork } from "./network.js";
import { renderEvent } from "./event.js";

const VIEW = ["event", "claim", "group", "interval", "mode", "follow", "cursor"];
const PAGE_SIZE = 20;
const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
  "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"];

const $ = (id) => document.getElementById(id);
let state = readState();
const drawn = {};
let firstView = true;
let generation = 0;

/** The state in the address bar. */
function readState() {
  const params = new URLSearchParams(location.search);
  const s = {};
  for (const key of LISTS) s[key] = params.getAll(key);
  for (const key of [...SCALARS, ...VIEW]) s[key] = params.get(key) || "";
  return s;
}

function urlOf(s) {
  const params = filterParams(s);
  for (const key of VIEW) if (s[key]) params.set(key, s[key]);
  const query = params.toString();
  return query ? `/explore?${query}` : "/explore";
}

/** Go to a new state: a history entry (Back returns), then draw. */
function navigate(patch, { filter = true } = {}) {
  const next = { ...state, ...patch };
  if (filter) next.cursor = patch.cursor || "";
  history.pushState(null, "", urlOf(next));
  state = next;
  render();
}

window.addEventListener("popstate", () => { state = readState(); render(); });

function showError(error) {
  const box = $("error");
  for (const field of document.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  // The API names the parameter it refused: mark that control.
  const param = error instanceof ApiError ? error.problem.param : null;
  const field = param ? ($("filters").elements[param] || (param === "actor" ? $("f-actor") : null)) : null;
  if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
  box.hidden = false;
  box.textContent = error instanceof ApiError
    ? `The API refused the request (${error.status}): ${error.message}` : String(error.message || error);
}

// ---------------------------------------------------------------- filters
async function setupFilters() {
  const vocabulary = await cached("/v1/vocabulary");
  for (const [id, terms] of [["f-type", vocabulary.event_types], ["f-status", vocabulary.statuses]]) {
    const select = $(id);
    for (const term of terms) {
      const option = new Option(id === "f-type" ? term.value : term.value, term.value);
      option.title = term.description;
      select.append(option);
    }
  }
  syncForm();
  // On a phone the filters fold away unless some are set, so that the events come first.
  const active = [...LISTS, ...SCALARS].some((k) => (Array.isArray(state[k]) ? state[k].length : state[k]));
  if (window.matchMedia("(max-width: 600px)").matches && !active) $("filters-box").open = false;
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = $("filters");
    const chosen = (select) => [...select.selectedOptions].map((o) => o.value);
    const asOfInput = form.elements.as_of.value;
    navigate({
      q: form.elements.q.value.trim(),
      start: form.elements.start.value.trim(),
      end: form.elements.end.value.trim(),
      type: chosen($("f-type")),
      status: chosen($("f-status")),
      country: form.elements.country.value.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()),
      min_sources: form.elements.min_sources.value,
      precision: form.elements.precision.value,
      actor_match: $("f-actor-match").value,
      as_of: asOfInput === inputMoment(state.as_of) ? state.as_of : (asOfInput ? `${asOfInput.length === 16 ? `${asOfInput}:00` : asOfInput}Z` : ""),
    });
  });
  $("reset").addEventListener("click", (e) => { e.preventDefault(); navigate(Object.fromEntries([...LISTS.map((k) => [k, []]), ...SCALARS.map((k) => [k, ""])])); });
  $("clear-bbox").addEventListener("click", () => navigate({ bbox: "", location: [] }));
  setupActorSearch();
}

/** An RFC 3339 moment as a datetime-local value (UTC, to the second). */
function inputMoment(moment) {
  return moment ? moment.replace(/Z$|[+-]00:00$/, "").replace(/\.\d+$/, "").slice(0, 19) : "";
}

function syncForm() {
  const form = $("filters");
  form.elements.q.value = state.q;
  form.elements.start.value = state.start;
  form.elements.end.value = state.end;
  form.elements.country.value = state.country.join(" ");
  form.elements.min_sources.value = state.min_sources;
  form.elements.precision.value = state.precision;
  form.elements.as_of.value = inputMoment(state.as_of);
  $("f-actor-match").value = state.actor_match || "all";
  for (const [id, key] of [["f-type", "type"], ["f-status", "status"]]) {
    for (const option of $(id).options) option.selected = state[key].includes(option.value);
  }
  const chips = $("actor-chips");
  chips.replaceChildren(...state.actor.map((actor) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${actor} ×`;
    button.dataset.actor = actor;
    button.setAttribute("aria-label", `Remove the actor ${actor}`);
    button.addEventListener("click", () => navigate({ actor: state.actor.filter((a) => a !== actor) }));
    li.append(button);
    return li;
  }));
  const area = [];
  if (state.bbox) area.push(`box ${state.bbox}`);
  if (state.location.length) area.push(`place ${state.location.join(", ")}`);
  $("f-bbox").textContent = area.length ? area.join("; ") : "anywhere";
  $("clear-bbox").hidden = !area.length;
  $("t-group").value = state.group || "type";
  $("t-interval").value = state.interval;
  $("n-directed").checked = state.mode === "directed";
  $("map-follow").checked = state.follow === "1";
  followMap(state.follow === "1");
  const banner = $("as-of-banner");
  banner.hidden = !state.as_of;
  if (state.as_of) {
    banner.replaceChildren(`Showing the data as it stood at ${state.as_of}. `);
    const now = document.createElement("button");
    now.type = "button";
    now.textContent = "Back to now";
    now.addEventListener("click", () => navigate({ as_of: "" }));
    banner.append(now);
  }
}

function setupActorSearch() {
  const input = $("f-actor");
  const box = $("actor-options");
  let active = -1;
  let timer = null;
  const close = () => { box.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const choose = (id) => { close(); input.value = ""; if (!state.actor.includes(id)) navigate({ actor: [...state.actor, id] }); };
  const highlight = (n) => {
    const items = [...box.children];
    if (!items.length) return;
    active = (n + items.length) % items.length;
    items.forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", items[active].id);
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) { close(); return; }
    timer = setTimeout(async () => {
      const answer = await getJSON("/v1/actors", { q, limit: "8", fields: "id,name,kind,aliases" });
      box.replaceChildren(...answer.data.map((actor, i) => {
        const li = document.createElement("li");
        li.id = `actor-option-${i}`;
        li.setAttribute("role", "option");
        li.dataset.actor = actor.id;
        li.append(actor.name, " ");
        const small = document.createElement("small");
        small.textContent = `${actor.kind}${actor.aliases && actor.aliases.length ? ` · also ${actor.aliases.join(", ")}` : ""}`;
        li.append(small);
        li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(actor.id); });
        return li;
      }));
      if (!answer.data.length) {
        const li = document.createElement("li");
        li.textContent = "No actor by that name or alias";
        li.setAttribute("aria-disabled", "true");
        box.append(li);
      }
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }, 150);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Escape") close();
    else if (e.key === "Enter" && !box.hidden && active >= 0) {
      e.preventDefault();
      const id = box.children[active].dataset.actor;
      if (id) choose(id);
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

// ---------------------------------------------------------------- timeline
function intervalFor(first, last) {
  if (!first || !last) return "month";
  const days = (Date.parse(last) - Date.parse(first)) / 86400000;
  if (days <= 92) return "day";
  if (days <= 400) return "week";
  if (days <= 6 * 366) return "month";
  return "year";
}

/** The timeline at the period chosen from its range: the years first (the range is in their
 * meta), then a finer period if the range is short. */
async function loadTimeline() {
  const ask = (interval) => getJSON("/v1/stats/timeline", filterParams(state, { interval, group_by: state.group || "type", series_limit: "20" }));
  if (state.interval) return ask(state.interval);
  const years = await ask("year");
  const interval = intervalFor(years.meta.start, years.meta.end);
  return interval === "year" ? years : ask(interval);
}

function svgEl(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function drawTimeline(timeline, vocabulary) {
  const box = $("timeline");
  const { data, meta } = timeline;
  const series = meta.series;
  const colour = new Map(series.map((key, i) => [key, PALETTE[i % PALETTE.length]]));
  const width = Math.max(300, box.clientWidth || 600);
  const height = 190;
  const left = 40, bottom = 22, gap = 14, undatedWidth = 52;
  const plotWidth = width - left - gap - undatedWidth - 4;
  const max = Math.max(1, meta.undated, ...data.map((row) => row.count));
  const scale = (v) => ((height - bottom - 18) * v) / max;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": `Events per ${meta.interval}`, "data-interval": meta.interval, "data-group": meta.group_by || "" });
  const axis = svgEl("g", { class: "axis" });
  for (const tick of [0, max]) {
    const text = svgEl("text", { x: left - 4, y: height - bottom - scale(tick) + 4, "text-anchor": "end" });
    text.textContent = tick.toLocaleString("en");
    axis.append(text);
  }
  svg.append(axis);
  const step = data.length ? plotWidth / data.length : plotWidth;
  const labelEvery = Math.max(1, Math.ceil(data.length / Math.max(1, Math.floor(plotWidth / 70))));
  data.forEach((row, i) => {
    const x = left + i * step;
    const g = svgEl("g", { class: "bar", tabindex: i === 0 ? "0" : "-1", role: "button", "data-count": row.count,
      "data-start": row.period_start, "data-end": row.period_end,
      "aria-label": `${periodLabel(row, meta.interval)}: ${row.count} event${row.count === 1 ? "" : "s"}; filter to this period` });
    let y = height - bottom;
    let stacked = 0;
    const parts = series.map((key) => [key, row.series ? row.series[key] || 0 : 0]);
    const other = row.count - parts.reduce((sum, [, v]) => sum + v, 0);
    if (other > 0) parts.push(["other", other]);
    for (const [key, value] of parts) {
      if (!value) continue;
      const h = scale(value);
      y -= h;
      stacked += value;
      g.append(svgEl("rect", { class: "segment", x: x + 0.5, y, width: Math.max(1, step - 1), height: h,
        fill: colour.get(key) || "#bbb", "data-series": key, "data-value": value }));
    }
    g.dataset.stacked = String(stacked);
    g.append(svgEl("rect", { class: "hit", x, y: 0, width: step, height: height - bottom }));
    const title = svgEl("title");
    title.textContent = `${periodLabel(row, meta.interval)}: ${row.count}` + parts.filter(([, v]) => v).map(([k, v]) => `\n${k}: ${v}`).join("");
    g.append(title);
    const pick = () => navigate({ start: row.period_start, end: row.period_end });
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); return; }
      // One tab stop for the chart; the arrow keys, Home and End move between periods.
      const bars = [...svg.querySelectorAll(".bar")];
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: bars.length - 1 }[e.key];
      if (to === undefined || !bars[to]) return;
      e.preventDefault();
      g.setAttribute("tabindex", "-1");
      bars[to].setAttribute("tabindex", "0");
      bars[to].focus();
    });
    svg.append(g);
    if (i % labelEvery === 0) {
      const text = svgEl("text", { x, y: height - 6, class: "axis" });
      text.textContent = periodLabel(row, meta.interval, true);
      axis.append(text);
    }
  });
  const ux = width - undatedWidth - 4;
  const undated = svgEl("g", { class: "undated", "data-count": meta.undated, role: "img",
    "aria-label": `${meta.undated} undated event${meta.undated === 1 ? "" : "s"}, in no period` });
  undated.append(svgEl("rect", { x: ux, y: height - bottom - scale(meta.undated), width: undatedWidth, height: scale(meta.undated) }));
  const ulabel = svgEl("text", { x: ux + undatedWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis" });
  ulabel.textContent = "undated";
  undated.append(ulabel);
  const ucount = svgEl("text", { x: ux + undatedWidth / 2, y: height - bottom - scale(meta.undated) - 3, "text-anchor": "middle", class: "axis" });
  ucount.textContent = meta.undated.toLocaleString("en");
  undated.append(ucount);
  svg.append(undated);
  box.replaceChildren(svg);
  const dated = meta.total - meta.undated;
  const n = (v) => v.toLocaleString("en");
  $("timeline-totals").textContent = `${n(meta.total)} matching event${meta.total === 1 ? "" : "s"}: ${n(dated)} dated, ${n(meta.undated)} undated (counted beside the periods, never in one); per ${meta.interval}.`;
  const legend = $("timeline-legend");
  const described = new Map([...vocabulary.event_types, ...vocabulary.statuses].map((t) => [t.value, t.description]));
  legend.replaceChildren(...series.map((key) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour.get(key);
    li.append(swatch, key);
    li.title = described.get(key) || "";
    return li;
  }));
}

function periodLabel(row, interval, short = false) {
  if (interval === "year") return row.period_start.slice(0, 4);
  if (interval === "month") return row.period_start.slice(0, 7);
  if (interval === "week") return short ? row.period_start.slice(5) : `week of ${row.period_start}`;
  return short ? row.period_start.slice(5) : row.period_start;
}

// ---------------------------------------------------------------- list
export function dateText(e) {
  if (e.date_precision === "unknown" || !e.start_date) return "undated: no date known";
  const cut = (d) => (e.date_precision === "year" ? d.slice(0, 4) : e.date_precision === "month" ? d.slice(0, 7) : d);
  const start = cut(e.start_date);
  if (!e.end_date) return e.status === "ongoing" ? `since ${start}` : start;
  const end = cut(e.end_date);
  return `${start === end ? start : `${start} – ${end}`}${e.date_precision === "approximate" ? " (approximately)" : ""}`;
}

function drawList(page, vocabulary) {
  const list = $("list");
  const described = new Map([...vocabulary.event_types, ...vocabulary.statuses, ...vocabulary.date_precisions].map((t) => [t.value, t.description]));
  list.replaceChildren(...page.data.map((e) => {
    const li = document.createElement("li");
    li.dataset.event = e.id;
    if (e.id === state.event) li.setAttribute("aria-current", "true");
    const a = document.createElement("a");
    a.className = "title";
    a.href = urlOf({ ...state, event: e.id, claim: "" });
    a.textContent = e.title;
    a.addEventListener("click", (ev) => { ev.preventDefault(); navigate({ event: e.id, claim: "" }, { filter: false }); });
    const meta = document.createElement("div");
    meta.className = "meta";
    const item = (cls, text, title) => { const s = document.createElement("span"); s.className = cls; s.textContent = text; if (title) s.title = title; return s; };
    meta.append(...[
      item("tag type", e.event_type, described.get(e.event_type)),
      item("tag status", e.status, described.get(e.status)),
      item("date", dateText(e)),
      e.date_precision === "unknown" ? null : item("precision", `dated to the ${e.date_precision}`, described.get(e.date_precision)),
      item("sources", `${e.source_count} source${e.source_count === 1 ? "" : "s"}`, "Different sources whose claims support it"),
    ].filter(Boolean));
    li.append(a, meta);
    return li;
  }));
  const total = page.meta.total;
  const about = page.meta.count && page.meta.count !== "exact" ? "about " : "";
  $("list-totals").textContent = `${about}${total === null || total === undefined ? "?" : total.toLocaleString("en")} event${total === 1 ? "" : "s"} match${state.cursor ? " (a later page)" : ""}.${page.meta.excluded_by_precision ? ` ${page.meta.excluded_by_precision} left out as dated less precisely.` : ""}`;
  $("next-page").disabled = !page.meta.next_cursor;
  $("next-page").onclick = () => navigate({ cursor: page.meta.next_cursor }, { filter: false });
  $("first-page").disabled = !state.cursor;
  $("first-page").onclick = () => navigate({ cursor: "" }, { filter: false });
}

function drawLinks() {
  const params = filterParams(state);
  const all = new URLSearchParams(params);
  all.set("limit", "all");
  for (const fmt of ["csv", "geojson", "ndjson"]) $(`export-${fmt}`).href = `/v1/events.${fmt}?${all}`;
  $("api-link").href = `/v1/events?${params}`;
  $("docs-link").href = `/docs#/events/list_events_v1_events_get`;
  $("docs-link").title = `In Swagger UI, try it out with: ${params.toString() || "no filters"}`;
}

// ---------------------------------------------------------------- drawing
let mapReady = false;
function once(name, key, work) {
  if (drawn[name] && drawn[name].key === key) return drawn[name].promise;
  const entry = { key };
  drawn[name] = entry;
  entry.promise = work(() => drawn[name] === entry).catch((error) => {
    if (drawn[name] === entry) drawn[name] = null;
    throw error;
  });
  return entry.promise;
}

async function render() {
  const mine = ++generation;
  syncForm();
  showError(null);
  drawLinks();
  const filters = filterParams(state).toString();
  const vocabulary = await cached("/v1/vocabulary");
  const jobs = [];
  try {
    const listJob = once("list", `${filters}|${state.cursor}|${state.event}`, async (current) => {
      // Exact up to 10,000 matches, estimated beyond: a count must not hold up the page.
      const page = await getJSON("/v1/events", filterParams(state, { limit: String(PAGE_SIZE), cursor: state.cursor }), { Prefer: "count=estimated" });
      if (current()) drawList(page, vocabulary);
    });
    const timelineJob = once("timeline", `${filters}|${state.group}|${state.interval}`, async (current) => {
      const timeline = await loadTimeline();
      if (current()) drawTimeline(timeline, vocabulary);
    });
    jobs.push(listJob, timelineJob);
    await Promise.all(jobs);
  } catch (error) {
    showError(error);
  }
  if (firstView) {
    firstView = false;
    performance.mark("explore:ready");
    document.body.dataset.ready = "true";
  }
  const later = [
    once("event", `${state.event}|${state.claim}|${state.as_of}`, (current) => showEvent(current)),
    once("map", filters, (current) => showMap(current)),
    once("network", `${filters}|${state.mode}`, (current) => showNetwork(current)),
  ];
  try { await Promise.all(later); } catch (error) { showError(error); }
  if (mine === generation) document.body.dataset.settled = String(mine);
}

async function showEvent(current) {
  const panel = $("event-panel");
  $("results").classList.toggle("with-event", Boolean(state.event));
  if (!state.event) { panel.hidden = true; return; }
  panel.hidden = false;
  await renderEvent($("event"), state, {
    vocabulary: await cached("/v1/vocabulary"),
    open: (id) => navigate({ event: id, claim: "" }, { filter: false }),
    pickClaim: (id) => navigate({ claim: id }, { filter: false }),
    asOf: (moment) => navigate({ as_of: moment }),
    linkTo: (patch) => urlOf({ ...state, ...patch }),
    current,
  });
}

async function showMap(current) {
  if (!mapReady) {
    setupMap($("map"), (bbox) => navigate({ bbox }));
    $("map-filter").addEventListener("click", () => navigate({ bbox: visibleArea() }));
    showArea(state.bbox, true);
    mapReady = true;
  } else {
    showArea(state.bbox);
  }
  const result = await loadPlaces(state);
  if (!current()) return;
  drawPlaces(result, $("map-places"), (place) => { if (place.location_id) navigate({ location: [place.location_id] }); });
  const n = result.places.length;
  const left = result.omittedPlaces
    ? ` The ${result.omittedPlaces.toLocaleString("en")} least busy places (${result.omittedEvents.toLocaleString("en")} events) are not drawn; filter (by the map area, say) to see them.`
    : "";
  $("map-totals").textContent = `${n.toLocaleString("en")} place${n === 1 ? "" : "s"}; ${result.withoutCoordinates.toLocaleString("en")} event${result.withoutCoordinates === 1 ? "" : "s"} without coordinates, not on the map.${left}`;
  $("map").dataset.places = String(n);
  $("map").dataset.without = String(result.withoutCoordinates);
}

async function showNetwork(current) {
  const network = await getJSON("/v1/network", filterParams(state, { mode: state.mode || "", node_limit: "30" }));
  if (!current()) return;
  drawNetwork($("network"), network, (id) => { if (!state.actor.includes(id)) navigate({ actor: [...state.actor, id] }); });
  const m = network.meta;
  $("network-totals").textContent = `${network.nodes.length} actors and ${network.edges.length} links${m.nodes_omitted ? `; ${m.nodes_omitted} less active actors left out` : ""}.`;
}

$("close-event").addEventListener("click", () => navigate({ event: "", claim: "" }, { filter: false }));
$("t-group").addEventListener("change", (e) => navigate({ group: e.target.value }, { filter: false }));
$("t-interval").addEventListener("change", (e) => navigate({ interval: e.target.value }, { filter: false }));
$("map-follow").addEventListener("change", (e) => navigate(e.target.checked ? { follow: "1", bbox: visibleArea() } : { follow: "" }, { filter: e.target.checked }));
$("n-directed").addEventListener("change", (e) => navigate({ mode: e.target.checked ? "directed" : "" }, { filter: false }));

setupFilters().then(render).catch(showError);
