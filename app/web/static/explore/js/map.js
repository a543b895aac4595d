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

/** The places of the matching events and how many events have none with coordinates.
 * The one function that knows where the numbers come from. */
export async function loadPlaces(state) {
  const params = filterParams(state, { limit: "all", fields: "id,locations" });
  const collection = await getJSON("/v1/events.geojson", params);
  const places = new Map();
  for (const feature of collection.features) {
    const points = feature.geometry.type === "Point"
      ? [feature.geometry.coordinates] : feature.geometry.coordinates;
    const located = feature.properties.locations.filter((l) => l.latitude !== null && l.longitude !== null);
    for (const [lon, lat] of points) {
      const location = located.find((l) => l.longitude === lon && l.latitude === lat) || {};
      const key = location.id || `${lon},${lat}`;
      const place = places.get(key) || {
        location_id: location.id || null, name: location.name || key, country: location.country || null,
        lat, lon, precision: location.precision || "point", events: 0,
      };
      place.events += 1;
      places.set(key, place);
    }
  }
  return {
    places: [...places.values()],
    withoutCoordinates: collection.meta.excluded_without_coordinates,
    events: collection.meta.total,
  };
}

async function drawOutline() {
  const world = await getJSON("/static/explore/vendor/world-atlas/countries-110m.json");
  const land = window.topojson.feature(world, world.objects.countries);
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

/** Draw the places; a list beside the map says the same for a screen reader. */
export function drawPlaces(result, list, onPlace) {
  const L = window.L;
  if (layer) layer.remove();
  layer = L.layerGroup().addTo(map);
  list.replaceChildren();
  const sorted = [...result.places].sort((a, b) => b.events - a.events);
  for (const place of sorted) {
    const centroid = CENTROIDS.has(place.precision);
    const marker = L.circleMarker([place.lat, place.lon], {
      radius: 4 + 3 * Math.sqrt(place.events),
      className: `place ${centroid ? "centroid" : "located"}`,
      fill: !centroid,
      dashArray: centroid ? "4 3" : null,
      keyboard: true,
    });
    const what = centroid ? "centre of the area only" : `coordinates of the ${place.precision}`;
    marker.bindTooltip(`${place.name}: ${place.events} event${place.events === 1 ? "" : "s"} (${what})`);
    marker.on("click", () => onPlace(place));
    marker.addTo(layer);
    const path = marker.getElement();
    if (path) {
      path.dataset.place = place.location_id || place.name;
      path.dataset.events = String(place.events);
      path.setAttribute("aria-label", `${place.name}, ${place.events} events`);
    }
    const item = document.createElement("li");
    const label = `${place.name}${place.country ? ` (${place.country})` : ""}: ${place.events} event${place.events === 1 ? "" : "s"}${centroid ? " — centre only" : ""}`;
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
}
