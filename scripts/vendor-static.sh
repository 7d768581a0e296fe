#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry (pinned versions).
# Usage: scripts/vendor-static.sh     (needs node/npm; writes under src/fairshare/static/vendor)
# The files are committed: the service never loads anything from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/fairshare/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name@version  files-to-copy (relative to the package folder)
packages=(  # axe-core: browser tests only, not linked from any page
  "@picocss/pico@2.1.1|css/pico.min.css LICENSE.md"
  "jsqr@1.4.0|dist/jsQR.js LICENSE"
  "axe-core@4.14.1|axe.min.js LICENSE"
)

for entry in "${packages[@]}"; do
  spec=${entry%%|*}
  files=${entry#*|}
  name=${spec%@*}
  short=$(basename "$name")
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls "$tmp"/*.tgz)
  mkdir -p "$tmp/$short" "$dest/$short"
  tar -xzf "$tarball" -C "$tmp/$short"
  rm -f "$tarball"
  for f in $files; do
    cp "$tmp/$short/package/$f" "$dest/$short/$(basename "$f")"
  done
  echo "$spec" > "$dest/$short/VERSION"
  echo "vendored $spec"
done
