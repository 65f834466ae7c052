#!/usr/bin/env bash
# The soak (issue 16; not in CI): two silos behind a round-robin TCP balancer, agents and callers reaching them only
# through it, mixed streaming and non-streaming load with churn (agent processes restarted every minute, callers
# walking away mid-call, silo B restarted midway) for 20 minutes. Every silo's RSS, GC heap, threads and open
# handles are sampled every 10 s into bench/results/soak.csv; bench/results/soak.md has the growth from minute 5 to
# the end on the silo that ran the whole time (target: under 10% each) and the calls (target: 0 hung). Builds in
# Release, starts everything on 127.0.0.1 with free ports, and kills every process it started however it ends.
#
#   bash bench/soak.sh                  # 20 minutes
#   bash bench/soak.sh --minutes 3      # a short run, to check the soak itself works
#   BENCH_SKIP_BUILD=1 bash bench/soak.sh   # reuse the last build
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/bench/results"
logs="$results/logs"
pidfile="$results/soak-pids.tmp"
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
  echo "== build (Release): product gateway and agent, fake upstream, load generator and balancer, agents"
  if ! dotnet build bench/Synapse.Bench.slnx -c Release -nologo -v quiet > "$logs/build.log" 2>&1; then
    tail -n 30 "$logs/build.log"
    echo "build failed (full log: $logs/build.log)"
    exit 1
  fi
  echo "   build took $((SECONDS - start)) s"
fi

dotnet "$root/bench/Synapse.Bench.Load/bin/Release/net10.0/Synapse.Bench.Load.dll" soak --root "$root" "$@" &
runner=$!
wait "$runner"
status=$?
runner=""
echo "total time including build: $((SECONDS - start)) s"
exit "$status"
