#!/usr/bin/env bash
# Build OpenStack-Health's AngularJS client (tools/osh-client/app: its source at
# openstack/openstack-health b103b1d, Apache-2.0, see tools/osh-client/README.md) once
# into a cache, and print the directory holding index.html, js/main.js, css/main.css.
# The browser test serves that directory with its own config.json (apiRoot).
#
#   tools/osh-client.sh            build if needed, print the build directory
#
# Pinned by tools/osh-client/package-lock.json (angular 1.7.5, angular-ui-router 0.4.3,
# d3 3.5.17, nvd3 1.8.6); needs node >= 18 and npm (the npm registry, the first time).
# The cache is $OSH_CLIENT_CACHE (default .osh-client-cache/ in the repository), one directory
# per content hash of tools/osh-client/, so an edit there rebuilds.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/osh-client" && pwd)
cache=${OSH_CLIENT_CACHE:-$(cd "$src/../.." && pwd)/.osh-client-cache}
hash=$(cd "$src" && find . -type f ! -path './node_modules/*' -print0 | LC_ALL=C sort -z |
       xargs -0 sha256sum | sha256sum | cut -c1-16)
dest=$cache/$hash
if [[ -f $dest/build/.built ]]; then echo "$dest/build"; exit 0; fi
command -v npm >/dev/null || { echo "osh-client: npm is not installed" >&2; exit 1; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$src/app" "$src/build.js" "$src/package.json" "$src/package-lock.json" "$work/"
chmod -R u+w "$work"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2)
# Dart Sass warns about every deprecated construct of Bootstrap 3's Sass: keep errors only
(cd "$work" && node build.js "$work/build" 2> >(grep -v -E 'DEPRECATION|WARNING|^\s' >&2)) >/dev/null
touch "$work/build/.built"
rm -rf "$dest"; mv "$work" "$dest"; trap - EXIT
echo "$dest/build"
