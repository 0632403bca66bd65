#!/usr/bin/env bash
# test.sh: what `npm test` runs after scripts/setup.sh (its `pretest`):
#   1. the tsc build into dist/ (type errors fail the run)
#   2. every vitest suite (unit tests beside the code, test/interop, test/daemon, …), on the native
#      UDP addon when scripts/setup.sh could build it, then the socket-level suites again on the
#      node:dgram fallback (TSRADIUS_NATIVE_UDP=0)
#   3. the same suites on the current Node LTS (24, from the npm registry; scripts/node24.sh), but for the
#      two whose peers are not Node (pppd in user-mode Linux, Chromium), which step 2 covers;
#      TSRADIUS_SKIP_NODE24=1 leaves it out of a local run (CI never sets it)
#   4. the conformance runs (`npm run conformance:all`)
# Every step runs even when an earlier one failed, so one run shows all
# failures; the exit status is non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
step() {
	echo "== $*" >&2
	"$@" || { echo "== FAILED: $*" >&2; status=1; }
}

step node_modules/.bin/tsc -p tsconfig.json
step node_modules/.bin/vitest run
if [ -f core/native/udp/build/Release/tsradius_udp.node ]; then
	step env TSRADIUS_NATIVE_UDP=0 node_modules/.bin/vitest run core/listen core/native modules/radius test/daemon test/proxy test/interop
fi
if [ "${TSRADIUS_SKIP_NODE24:-0}" != 1 ]; then
	step bash scripts/node24.sh
fi
step npm run --silent conformance:all
exit $status
