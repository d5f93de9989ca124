#!/usr/bin/env bash
# Installs whatever is missing for `make up` (setup.sh run) or `make test` (setup.sh test):
# Debian packages, Node 24 (from the npm registry), npm packages, the built panel.
# Idempotent and quick when nothing is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-run}

pkgs=()
while read -r line; do
  line=${line%%#*}; line=$(echo "$line" | xargs)
  [ -z "$line" ] && continue
  case "$line" in
    test:*) [ "$mode" = test ] && pkgs+=("${line#test:}") ;;
    *) pkgs+=("$line") ;;
  esac
done < scripts/debian-packages.txt
# npm is needed to fetch Node 24 when the system has none.
command -v npm >/dev/null || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2; exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

nodebin=$(scripts/ensure-node.sh)
export PATH="$nodebin:$PATH"

# npm packages: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.infogere-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi

# The panel: rebuild when its sources are newer than the build.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/vite.config.ts -newer web/dist/index.html -print -quit 2>/dev/null)" ]; then
  echo "setup: building the panel" >&2
  npx vite build --config web/vite.config.ts --logLevel warn >&2
fi
# The small guest image VPSs boot (built from Debian packages, cached under var/).
scripts/guest-image/build.sh >&2
# The Debian VPS image (scripts/guest-image/debian/build.sh): for the tests that boot a real OS.
# Cached by its inputs; a cold build takes 5–11 min on 2 busy cores (docs/guest-image.md).
if [ "$mode" = test ]; then scripts/guest-image/debian/build.sh >&2; fi

echo "$nodebin"
