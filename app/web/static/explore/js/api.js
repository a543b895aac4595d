// The public API, read with fetch: the same requests any dashboard makes.

// Filters of GET /v1/events that the page sets; repeatable ones are lists.
export const LISTS = ["actor", "type", "status", "country", "location"];
export const SCALARS = ["as_of", "actor_match", "start", "end", "q", "min_sources", "precision", "bbox"];

/** The event filters of a state, as query parameters (empty values left out). */
export function filterParams(state, extra = {}) {
  const params = new URLSearchParams();
  for (const key of LISTS) for (const value of state[key] || []) params.append(key, value);
  for (const key of SCALARS) {
    if (state[key] === undefined || state[key] === "") continue;
    if (key === "actor_match" && (state[key] === "all" || (state.actor || []).length < 2)) continue;
    params.set(key, state[key]);
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  return params;
}

/** A problem+json answer, with the API's own words. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** GET a JSON resource of the API; `params` is a URLSearchParams or a plain object. */
export async function getJSON(path, params, headers = {}) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const answer = await fetch(path + query, { headers: { Accept: "application/json", ...headers } });
  if (!answer.ok) {
    let problem = {};
    try { problem = await answer.json(); } catch { /* a body that is not JSON */ }
    throw new ApiError(answer.status, problem);
  }
  return answer.json();
}

/** GET a text resource (a source's own text). */
export async function getText(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const answer = await fetch(path + query, { headers: { Accept: "text/plain" } });
  if (!answer.ok) throw new ApiError(answer.status, {});
  return answer.text();
}

const once = new Map();
/** A resource read once per page (the vocabulary). */
export function cached(path) {
  if (!once.has(path)) once.set(path, getJSON(path));
  return once.get(path);
}
