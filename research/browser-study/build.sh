#!/bin/sh
# Bundles browser/bench.ts (tfjs + wasm backend + portable pipeline) for the browser.
set -e
cd "$(dirname "$0")"
/work/main/node_modules/.bin/esbuild browser/bench.ts --bundle --format=esm --platform=browser --target=chrome120 --outfile=browser/bench.js --log-level=warning "$@"
ls -la browser/bench.js
