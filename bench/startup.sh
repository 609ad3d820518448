#!/usr/bin/env bash
# CLI start-up: process time (user + sys, from /usr/bin/time) of `cairn --help`, `runs` and `run <id>`, the lowest of
# N calls each, for the built CLI (what an installed package runs) and for the sources (--conditions=@cairn/source,
# which loads tsx first). Usage, from the repository root after `npm run build`: bash bench/startup.sh [N=5]
set -euo pipefail
n=${1:-5}
bin="$PWD/packages/worker/bin/cairn.js"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
node "$bin" submit hello --input '{"name":"Ada"}' --wait --workflows "$OLDPWD/examples/workflows" >/dev/null 2>&1
id=$(node "$bin" runs --json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s)[0].runId))')
lowest() { # command... -> lowest user+sys seconds over $n calls
  local best=""
  for _ in $(seq "$n"); do
    /usr/bin/time -o "$dir/t" -f "%U %S" "$@" >/dev/null 2>&1
    best=$(awk -v b="$best" '{ s = $1 + $2; print (b == "" || s < b) ? s : b }' "$dir/t")
  done
  echo "$best"
}
printf '%-10s %8s %8s\n' command built source
for args in "--help" "runs" "run $id"; do
  # shellcheck disable=SC2086
  printf '%-10s %7ss %7ss\n' "${args%% *}" "$(lowest node "$bin" $args)" "$(lowest node -C @cairn/source "$bin" $args)"
done
# For scale: node itself, and importing the built @cairn/backend-interface (zod, Ajv, zod-to-json-schema), which
# every command but --help needs.
iface="$OLDPWD/packages/backend-interface/dist/index.js"
printf '%-10s %7ss\n' "node -e 0" "$(lowest node -e 0)"
printf '%-10s %7ss\n' "interface" "$(lowest node --input-type=module -e "await import('$iface')")"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
