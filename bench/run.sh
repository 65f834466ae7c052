#!/usr/bin/env bash
# The Synapse benchmark, in one command: builds everything in Release, publishes the Native AOT agent, starts the
# fake upstream, silos and agents on 127.0.0.1 with free ports, measures every path, prints one table and writes
# bench/results/latest.json. Every process it started is killed when it ends, however it ends.
#
#   bash bench/run.sh                 # the full run (about 12 minutes on 2 cores)
#   bash bench/run.sh --quick         # 3 s per measurement, 100 streams / agents instead of 1,000 (for working on it)
#   bash bench/run.sh --duration 20   # longer measurements; other flags: --warmup S, --out FILE,
#                                     #   --phases one-silo,limits,two-silos,four-silos,idle,agents (a subset; they run in that order)
#   BENCH_SKIP_BUILD=1 bash bench/run.sh   # reuse the last build
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/bench/results"
logs="$results/logs"
pidfile="$results/pids.tmp"
mkdir -p "$logs"
: > "$pidfile"
runner=""
start=$SECONDS

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export BENCH_PIDFILE="$pidfile"

# Kills only what this run started: the runner, and every pid it recorded whose command line is one of ours.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$runner" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$runner" 2>/dev/null
  fi
  if [ -f "$pidfile" ]; then
    while read -r pid; do
      [ -n "$pid" ] || continue
      if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF "$root"; then
        kill -KILL "$pid" 2>/dev/null
      fi
    done < "$pidfile"
    rm -f "$pidfile"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  echo "== build (Release): product gateway and agent, fake upstream, load generator, agents"
  if ! dotnet build bench/Synapse.Bench.slnx -c Release -nologo -v quiet > "$logs/build.log" 2>&1; then
    tail -n 30 "$logs/build.log"
    echo "build failed (full log: $logs/build.log)"
    exit 1
  fi
  echo "== publish the Native AOT agent"
  if dotnet publish Synapse.Client -c Release -r linux-x64 -o "$root/artifacts/bench/agent-aot" -nologo -v quiet > "$logs/aot-publish.log" 2>&1; then
    :
  else
    echo "warning: Native AOT publish failed (see $logs/aot-publish.log); the agent's idle RSS is measured on dotnet synapse-client.dll instead"
    rm -f "$root/artifacts/bench/agent-aot/synapse-client"
  fi
  echo "   build took $((SECONDS - start)) s"
fi
if [ -x "$root/artifacts/bench/agent-aot/synapse-client" ]; then
  export BENCH_AOT_AGENT="$root/artifacts/bench/agent-aot/synapse-client"
fi

dotnet "$root/bench/Synapse.Bench.Load/bin/Release/net10.0/Synapse.Bench.Load.dll" suite --root "$root" "$@" &
runner=$!
wait "$runner"
status=$?
runner=""
echo "total time including build: $((SECONDS - start)) s"
exit "$status"
