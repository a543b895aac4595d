#!/usr/bin/env bash
# Copy the built files of the pinned packages (package-lock.json) into the app's static folder.
# Run after changing a version in package.json; the copies are committed, so that serving the
# explorer needs no Node.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
OUT=../../app/web/static/explore/vendor
rm -rf "$OUT"
copy() {  # package, files...
    local pkg=$1; shift
    mkdir -p "$OUT/$pkg"
    for f in "$@"; do cp -r "node_modules/$pkg/$f" "$OUT/$pkg/"; done
    cp "node_modules/$pkg/LICENSE" "$OUT/$pkg/LICENSE"
    node -e "const p=require('./node_modules/$pkg/package.json'); console.log(p.name+' '+p.version+' ('+p.license+')')" >> "$OUT/VERSIONS"
}
copy leaflet dist/leaflet.js dist/leaflet.css
copy topojson-client dist/topojson-client.min.js
copy world-atlas countries-110m.json
copy d3-dispatch dist/d3-dispatch.min.js
copy d3-quadtree dist/d3-quadtree.min.js
copy d3-timer dist/d3-timer.min.js
copy d3-force dist/d3-force.min.js
