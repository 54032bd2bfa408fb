#!/usr/bin/env bash
# Runs a node:test file of tests/server/npm against tandem serve, with the
# openai npm client installed from the committed lockfile (npm ci, offline
# when the npm cache has it) into BUILD_DIR/server_npm, not the source tree.
# Exits 77 (ctest: skipped) when node or npm is absent (scripts/setup.sh
# installs them).
# Usage: run_npm_test.sh TANDEM_BINARY SOURCE_DIR BUILD_DIR (install | TEST_FILE.mjs)
set -euo pipefail
TANDEM=$1 SRC=$2 WORK=$3/server_npm WHAT=$4
for tool in node npm; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed (scripts/setup.sh installs nodejs and npm)"; exit 77; }
done
if [ "$WHAT" = install ]; then
  mkdir -p "$WORK"
  cp "$SRC/tests/server/npm/package.json" "$SRC/tests/server/npm/package-lock.json" "$WORK/"
  cd "$WORK" && exec npm ci --prefer-offline --no-audit --no-fund
fi
[ -d "$WORK/node_modules/openai" ] || { echo "the openai client is not installed: run the Serve.NpmInstall test first"; exit 1; }
cp "$SRC/tests/server/npm/"*.mjs "$WORK/"
cd "$WORK"
TANDEM_BINARY=$TANDEM TANDEM_SOURCE_DIR=$SRC exec node --test --test-reporter=spec "$WHAT"
