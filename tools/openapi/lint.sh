#!/bin/sh
# Lint an OpenAPI document with Redocly CLI (its recommended rules) and Spectral (spectral:oas),
# the versions pinned in package-lock.json beside this file; any error or warning fails.
set -eu
here=$(dirname "$0")
doc=$1
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$here/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" --format=stylish "$doc" \
	>"$out" 2>&1 || status=$?
# Redocly exits 0 on warnings: they fail here too. (Its Node version notice is left out.)
grep -v '[║╔╚]' "$out"
if [ "$status" -ne 0 ] || grep -q 'You have [0-9]* warning' "$out"; then
	exit 1
fi
"$here/node_modules/.bin/spectral" lint --ruleset "$here/spectral.yaml" --fail-severity=warn \
	"$doc"
