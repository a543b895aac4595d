// The map: an offline Natural Earth outline (no tiles), the places of the matching events,
// centroid-only places drawn hollow and dashed, and a box or the visible area as a filter.
import { filterParams, getJSON } from "./api.js";

const CENTROIDS = new Set(["country_centroid", "continent_centroid"]);
let map = null;
let layer = null;
let outline = null;
let area = null;
let follow = false;
let skipMove = false;

function boundsOf(bbox) {
  const [west, south, east, north] = bbox.split(",").map(Number);
  // A box across the antimeridian is drawn with its east edge one turn further.
  return window.L.latLngBounds([south, west], [north, east < west ? east + 360 : east]);
}

/** Show the bbox filter on the map (none: remove it); `fit` moves the view onto it, as a
 * shared link with an area opens on that area. */
export function showArea(bbox, fit = false) {
  map.invalidateSize();
  if (area) area.remove();
  area = null;
  if (!bbox || bbox.split(",").length !== 4) return;
  area = window.L.rectangle(boundsOf(bbox), { color: "#c25400", weight: 2, fill: false, dashArray: "6 4", interactive: false }).addTo(map);
  if (fit) { skipMove = true; map.fitBounds(area.getBounds(), { padding: [6, 6] }); }
}

const PLACE_LIMIT = 5000;

/** The places of the matching events, counted by the API (GET /v1/stats/places), and how
 * many events have no place with coordinates. The one function that knows where the numbers
 * come from. */
export async function loadPlaces(state) {
  const answer = await getJSON("/v1/stats/places", filterParams(state, { limit: String(PLACE_LIMIT) }));
  return {
    places: answer.data,
    withoutCoordinates: answer.meta.without_coordinates,
    events: answer.meta.events,
    omittedPlaces: answer.meta.omitted_places,
    omittedEvents: answer.meta.omitted_events,
  };
}

async function drawOutline() {
  const world = await getJSON("/static/explore/vendor/world-atlas/countries-110m.json");
  const land = window.topojson.feature(world, world.objects.countries);
  // Rings that cross the antimeridian jump from 180° to -180°, which a flat map draws as a
  // line across the world: unwrap them so that they run on past 180°. Antarctica, which
  // circles the pole, is left out of the outline.
  land.features = land.features.filter((f) => f.properties.name !== "Antarctica");
  for (const feature of land.features) {
    const polygons = feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates;
    for (const ring of polygons.flat()) {
      for (let i = 1; i < ring.length; i += 1) {
        const jump = ring[i][0] - ring[i - 1][0];
        if (jump > 180) ring[i][0] -= 360; else if (jump < -180) ring[i][0] += 360;
      }
    }
  }
  outline = window.L.geoJSON(land, {
    style: { color: "#8c8c8c", weight: 0.6, fillColor: "#fbfbf8", fillOpacity: 1 },
    interactive: false,
  }).addTo(map);
  outline.bringToBack();
}

/** Create the map once; `onArea(bbox)` is called with a box the user chose. */
export function setupMap(element, onArea) {
  const L = window.L;
  map = L.map(element, { worldCopyJump: true, minZoom: 1, maxZoom: 10, boxZoom: true, attributionControl: true })
    .setView([30, 20], 1);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Outline: Natural Earth (public domain)");
  drawOutline();
  map.on("zoomend", drawMarkers);
  map.on("boxzoomend", (e) => { skipMove = true; onArea(bboxOf(e.boxZoomBounds)); });
  // With "filter as the map moves", every pan and zoom of the reader's is a filter.
  map.on("moveend", () => {
    if (skipMove) { skipMove = false; return; }
    if (follow) onArea(visibleArea());
  });
  return map;
}

function bboxOf(bounds) {
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const w = bounds.getWest(), e = bounds.getEast();
  const fix = (v) => Number(v.toFixed(4));
  const west = e - w >= 360 ? -180 : ((w + 540) % 360) - 180;
  const east = e - w >= 360 ? 180 : ((e + 540) % 360) - 180;
  return [fix(west), fix(clamp(bounds.getSouth(), -90, 90)), fix(east), fix(clamp(bounds.getNorth(), -90, 90))].join(",");
}

/** Whether each move of the map filters to the visible area. */
export function followMap(enabled) {
  follow = enabled;
}

/** The visible area as a bbox filter value. */
export function visibleArea() {
  return bboxOf(map.getBounds());
}

const CELL = 36;  // px: places closer than this on screen are drawn as one group
const LISTED = 40;  // places named in the list beside the map
let current = null;

/** Places that fall in one screen cell at the current zoom, grouped; centroid-only places
 * are grouped only with each other, so that a group never mixes the two kinds. */
function groups(places) {
  const cells = new Map();
  const zoom = map.getZoom();
  for (const place of places) {
    const centroid = CENTROIDS.has(place.precision);
    const p = map.project([place.lat, place.lon], zoom);
    const key = `${centroid ? "c" : "p"}:${Math.floor(p.x / CELL)}:${Math.floor(p.y / CELL)}`;
    const cell = cells.get(key) || { centroid, places: [], events: 0, x: 0, y: 0 };
    cell.places.push(place);
    cell.events += place.events;
    cell.x += p.x * place.events;
    cell.y += p.y * place.events;
    cells.set(key, cell);
  }
  return [...cells.values()].map((cell) => ({
    ...cell, at: map.unproject([cell.x / cell.events, cell.y / cell.events], zoom),
  }));
}

function drawMarkers() {
  const L = window.L;
  if (layer) layer.remove();
  layer = L.layerGroup().addTo(map);
  if (!current) return;
  const { places, onPlace } = current;
  const cells = groups(places);
  const most = Math.max(1, ...cells.map((c) => c.events));
  for (const cell of cells) {
    const one = cell.places.length === 1 ? cell.places[0] : null;
    const marker = L.circleMarker(one ? [one.lat, one.lon] : cell.at, {
      radius: 4 + 14 * Math.sqrt(cell.events / most),
      className: `place ${cell.centroid ? "centroid" : "located"}${one ? "" : " group"}`,
      fill: !cell.centroid,
      dashArray: cell.centroid ? "4 3" : null,
    });
    const events = `${cell.events.toLocaleString("en")} event${cell.events === 1 ? "" : "s"}`;
    const what = cell.centroid ? "centre of the area only" : one ? `coordinates of the ${one.precision}` : "zoom in to separate them";
    marker.bindTooltip(one ? `${one.name}: ${events} (${what})` : `${cell.places.length} places, ${events} (${what})`);
    marker.on("click", () => (one ? onPlace(one) : map.setView(cell.at, Math.min(map.getMaxZoom(), map.getZoom() + 2))));
    marker.addTo(layer);
    const path = marker.getElement();
    if (path) {
      path.dataset.place = one ? one.location_id || one.name : "";
      path.dataset.places = String(cell.places.length);
      path.dataset.events = String(cell.events);
    }
  }
}

/** Draw the places (grouped when they crowd at the current zoom; regrouped on zoom); a list
 * beside the map names the busiest for a keyboard or a screen reader. */
export function drawPlaces(result, list, onPlace) {
  current = { places: result.places, onPlace };
  drawMarkers();
  list.replaceChildren();
  const sorted = [...result.places].sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
  for (const place of sorted.slice(0, LISTED)) {
    const centroid = CENTROIDS.has(place.precision);
    const item = document.createElement("li");
    const label = `${place.name}${place.country ? ` (${place.country})` : ""}: ${place.events.toLocaleString("en")} event${place.events === 1 ? "" : "s"}${centroid ? " — centre only" : ""}`;
    if (place.location_id) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.title = `Filter to the events at ${place.name}`;
      button.addEventListener("click", () => onPlace(place));
      item.append(button);
    } else {
      item.textContent = label;
    }
    list.append(item);
  }
  if (sorted.length > LISTED) {
    const more = document.createElement("li");
    more.textContent = `and ${(sorted.length - LISTED).toLocaleString("en")} more places`;
    list.append(more);
  }
}
