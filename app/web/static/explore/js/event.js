// One event: its claims with speaker, hedging in words, quote, figures with their bounds and
// source; the evidence highlighted inside the source's own text; related events, sources,
// figure conflicts and history, all as they stood at `as_of` when one is set.
import { getJSON, getText } from "./api.js";

// How a reader would say each hedging value in a sentence about the claim.
const HEDGING_WORDS = {
  asserted: "states as fact",
  reported: "reportedly",
  alleged: "allegedly",
  claimed: "claims",
  warned: "warned",
  proposed: "proposed",
  estimated: "estimates",
  opinion: "in the source's opinion",
};

// A relation read from this event (outgoing) or towards it (incoming).
const OUTGOING = { part_of: "Part of", follows: "Follows", response_to: "In response to" };
const INCOMING = { part_of: "Includes", follows: "Followed by", response_to: "Answered by" };

const texts = new Map();
let shown = null;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const number = (v) => (Number.isInteger(v) ? v.toLocaleString("en") : String(v));

/** A figure's bounds in words, from the numbers: "over 30" is "more than 30", not 30. */
export function boundsText(q) {
  const unit = q.unit ? ` ${q.unit}` : "";
  switch (q.qualifier) {
    case "exact": return `exactly ${number(q.value)}${unit}`;
    case "approximately": return `about ${number(q.value)}${unit}`;
    case "at_least": return `${number(q.low)}${unit} or more (no upper bound given)`;
    case "more_than": return `more than ${number(q.low)}${unit} (${number(q.low)} excluded; no upper bound given)`;
    case "up_to": return `${number(q.high)}${unit} or fewer (no lower bound given)`;
    case "less_than": return `fewer than ${number(q.high)}${unit} (${number(q.high)} excluded)`;
    default: {
      const low = q.low === null ? "…" : `${q.low_inclusive ? "≥" : ">"} ${number(q.low)}`;
      const high = q.high === null ? "…" : `${q.high_inclusive ? "≤" : "<"} ${number(q.high)}`;
      return `${low}, ${high}${unit}`;
    }
  }
}

function figure(q, vocabulary) {
  const described = vocabulary.qualifiers.find((t) => t.value === q.qualifier);
  return h("li", { "data-quantity": q.id },
    `${q.label}: `,
    q.as_reported ? h("q", { class: "as-reported" }, q.as_reported) : null,
    " — ",
    h("span", { class: "bounds", title: described ? described.description : null }, boundsText(q)));
}

async function sourceText(id, asOf) {
  const key = `${id}|${asOf}`;
  if (!texts.has(key)) texts.set(key, getText(`/v1/sources/${encodeURIComponent(id)}/text`, asOf ? { as_of: asOf } : undefined));
  return texts.get(key);
}

/** The source's text with the evidence span marked (offsets count code points). */
function highlighted(text, evidence) {
  const chars = Array.from(text);
  const mark = h("mark", { id: "evidence-mark", "data-claim": evidence.claim }, chars.slice(evidence.start, evidence.end).join(""));
  return h("div", { class: "source-text", tabindex: "0", role: "region", "aria-label": `Text of the source ${evidence.source_id}, with the evidence highlighted` },
    chars.slice(0, evidence.start).join(""), mark, chars.slice(evidence.end).join(""));
}

/** Draw the event `state.event` into `box`. */
export async function renderEvent(box, state, ctx) {
  const asOf = state.as_of ? { as_of: state.as_of } : undefined;
  const id = encodeURIComponent(state.event);
  let event;
  try {
    event = await getJSON(`/v1/events/${id}`, asOf);
  } catch (error) {
    box.replaceChildren(h("p", {}, error.status === 404
      ? `There is no event ${state.event}${state.as_of ? ` as of ${state.as_of}` : ""}.` : `The event could not be read: ${error.message}`));
    return;
  }
  const [history, sources] = await Promise.all([
    getJSON(`/v1/events/${id}/history`).catch(() => ({ data: [] })),
    Promise.all(event.source_ids.map((s) => getJSON(`/v1/sources/${encodeURIComponent(s)}`, asOf).catch(() => ({ id: s })))),
  ]);
  if (!ctx.current()) return;
  const { vocabulary } = ctx;
  const hedging = new Map(vocabulary.hedging.map((t) => [t.value, t.description]));
  const described = new Map([...vocabulary.event_types, ...vocabulary.statuses, ...vocabulary.date_precisions].map((t) => [t.value, t.description]));
  const byClaim = new Map();
  for (const q of event.quantities) byClaim.set(q.claim_id, [...(byClaim.get(q.claim_id) || []), q]);
  const chosen = event.claims.find((c) => c.id === state.claim) || event.claims.find((c) => c.evidence);
  const dates = event.start_date
    ? `${event.start_date}${event.end_date && event.end_date !== event.start_date ? ` – ${event.end_date}` : event.end_date ? "" : event.status === "ongoing" ? " onwards" : ""}`
    : "no date known";

  const claims = h("ol", { class: "claims" }, event.claims.map((c) => {
    const words = HEDGING_WORDS[c.hedging] || c.hedging;
    const li = h("li", { "data-claim": c.id, "aria-current": chosen && c.id === chosen.id ? "true" : null },
      h("p", {},
        h("strong", {}, c.speaker ? c.speaker.name : "The source"), " ",
        h("span", { class: "hedge", title: hedging.get(c.hedging) || "" }, `(${words})`), ": ",
        c.statement),
      c.quote ? h("blockquote", { class: "quote" }, h("q", {}, c.quote)) : null,
      byClaim.has(c.id) ? h("ul", { class: "figures", "aria-label": "Figures as reported" }, byClaim.get(c.id).map((q) => figure(q, vocabulary))) : null,
      h("p", { class: "meta" },
        h("span", {}, `Source: ${c.source_id}`),
        c.evidence ? h("button", { type: "button", class: "show-evidence", "aria-pressed": chosen && c.id === chosen.id ? "true" : "false",
          onclick: () => ctx.pickClaim(c.id) }, "Show the evidence in the source") : h("span", {}, "no evidence span"),
        h("span", {}, hedging.get(c.hedging) || "")));
    return li;
  }));

  const related = event.related.length
    ? h("ul", {}, event.related.map((r) => h("li", {},
        `${(r.direction === "outgoing" ? OUTGOING : INCOMING)[r.relation] || r.relation}: `,
        h("a", { href: ctx.linkTo({ event: r.id, claim: "" }), onclick: (e) => { e.preventDefault(); ctx.open(r.id); } }, r.title))))
    : h("p", {}, "None recorded.");

  const conflicts = event.figure_conflicts.length
    ? h("ul", {}, event.figure_conflicts.map((f) => h("li", {}, `${f.label} (${f.unit}): `,
        f.figures.map((x, i) => h("span", {}, i ? "; " : "", h("q", {}, x.as_reported || String(x.value)), ` (${x.qualifier.replace("_", " ")}, ${x.source_id})`)))))
    : h("p", {}, "The figures given do not contradict each other.");

  const historyList = h("ol", { class: "history" }, history.data.map((r) => h("li", {},
    `${r.at} — ${r.op} (version ${r.version}, by ${r.author || "unknown"})`,
    r.changes ? `: ${Object.keys(r.changes).join(", ")}` : "", " ",
    h("button", { type: "button", class: "as-of", "data-at": r.at, onclick: () => ctx.asOf(r.at) }, "See it as it stood then"))));

  const evidenceBox = h("div", { id: "evidence", "aria-live": "polite" });
  const chosenItem = chosen ? claims.querySelector(`li[data-claim="${CSS.escape(chosen.id)}"]`) : null;
  if (chosenItem) chosenItem.append(evidenceBox);
  box.replaceChildren(...[
    h("h3", { id: "event-title" }, event.title),
    h("p", { class: "meta" },
      h("span", { class: "tag", title: described.get(event.event_type) }, event.event_type),
      h("span", { class: "tag", title: described.get(event.status) }, event.status),
      event.start_date ? h("span", {}, dates) : null,
      h("span", { title: described.get(event.date_precision) }, event.date_precision === "unknown" ? "no date known" : `dated to the ${event.date_precision}`),
      h("span", {}, `${event.source_count} source${event.source_count === 1 ? "" : "s"}`)),
    event.date_note ? h("p", { class: "help" }, event.date_note) : null,
    h("p", {}, event.summary),
    h("p", { class: "meta" }, "Actors: ", event.actors.map((a, i) => `${i ? ", " : ""}${a.name} (${a.role})`).join("")),
    event.locations.length ? h("p", { class: "meta" }, "Places: ", event.locations.map((l) => `${l.name}${l.precision ? ` [${l.precision.replace("_", " ")}]` : " [no coordinates]"}`).join(", ")) : null,
    h("h4", {}, `Claims (${event.claims.length})`), claims,
    chosenItem ? null : evidenceBox,
    h("h4", {}, "Corroborating sources"),
    h("p", { class: "help" }, `${event.source_count} different source${event.source_count === 1 ? "" : "s"} support${event.source_count === 1 ? "s" : ""} this event with claims.`),
    h("ul", { class: "sources" }, sources.map((s) => h("li", { "data-source": s.id },
      h("a", { href: `/v1/sources/${encodeURIComponent(s.id)}` }, s.title || s.id),
      s.kind ? ` — ${s.kind.replace("_", " ")}${s.publisher ? `, ${s.publisher}` : ""}${s.published_date ? `, ${s.published_date}` : ", undated"}` : "",
      s.description ? h("div", { class: "help" }, s.description) : null,
      s.url ? h("div", {}, h("a", { href: s.url, rel: "noreferrer" }, "the original")) : null))),
    h("h4", {}, "Figure conflicts"), conflicts,
    h("h4", {}, "Related events"), related,
    h("h4", {}, "History"), historyList,
  ].filter((node) => node !== null && node !== undefined));
  const heading = document.getElementById("event-h");
  // A newly opened event takes the focus (and, on a narrow screen, the view); a claim does not.
  if (shown !== state.event) heading.focus();
  shown = state.event;

  if (chosen && chosen.evidence) {
    const text = await sourceText(chosen.evidence.source_id, state.as_of);
    if (!ctx.current()) return;
    const region = highlighted(text, { ...chosen.evidence, claim: chosen.id });
    evidenceBox.replaceChildren(h("p", { class: "help" }, `The evidence inside the source's own text (${chosen.evidence.source_id}, characters ${chosen.evidence.start}–${chosen.evidence.end}), highlighted:`), region);
    const mark = region.querySelector("mark");
    region.scrollTop = Math.max(0, mark.offsetTop - region.offsetTop - region.clientHeight / 3);
    if (state.claim) chosenItem?.scrollIntoView({ block: "nearest" });
  } else {
    evidenceBox.replaceChildren(h("p", {}, "No claim of this event has an evidence span."));
  }
}
