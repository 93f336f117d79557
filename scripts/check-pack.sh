#!/usr/bin/env bash
# Checks that @qsattn/qsattn works outside the monorepo: packs it and what it depends on, installs the tarballs
# into a fresh project that has only @tensorflow/tfjs-core and a backend, and runs the example there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
npm run build >/dev/null
for pkg in core qsattn; do (cd "packages/$pkg" && npm pack --silent --pack-destination "$work" >/dev/null); done
cd "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --silent ./qsattn-core-*.tgz ./qsattn-qsattn-*.tgz @tensorflow/tfjs-core@^4.22.0 @tensorflow/tfjs-backend-wasm@^4.22.0
cp "$root/packages/qsattn/examples/own-encoder.mjs" .
node own-encoder.mjs
echo "check:pack ok: @qsattn/qsattn installed from its tarball and ran the example in $work"
