#!/usr/bin/env bash
# Streaming load run on this machine, in one go:
#   1. the machine's yardstick now: sgemm GFLOP/s at the same torch thread count (PopSteer.Bench peak);
#   2. the raw ceilings (embedded Kafka produce/consume, redis-benchmark with pipelining, the SequenceStore Lua append,
#      Ingest alone);
#   3. the whole pipeline as fast as possible (`popsteer demo --rate 0`: Ingest + Scorer + the view, no pacing);
#   4. the same replay paced at 25%, 50% and 100% of that maximum, each with its latency p50/p99 and where it goes;
#   5. the services as separate processes with one and with two Scorer processes in one consumer group;
#   6. the yardstick again.
# Environment: THREADS (torch threads, default 2), SHARES (default "25 50 100"), FLOODS (floods whose median recs/s is the
# maximum, default 3), DATA (the demo's generated data, default
# "--users 3000 --interactions 200000": 121,181 held-out events, so a paced run lasts its full 45 s instead of running
# out of events before the steady window). Extra arguments go to every `popsteer demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-2}"
SHARES="${SHARES:-25 50 100}"
read -r -a DATA <<<"${DATA:---users 3000 --interactions 200000}"
scripts/ensure-prereqs.sh
dotnet build PopSteer.Stream.sln -c Release -nologo -clp:ErrorsOnly
BENCH=bench/PopSteer.Bench/bin/Release/net10.0/linux-x64/PopSteer.Bench.dll
CLI=src/PopSteer.Cli/bin/Release/net10.0/linux-x64/popsteer.dll
echo "== the machine now"
dotnet "$BENCH" peak --threads "$THREADS"
echo "== raw ceilings"
dotnet bench/PopSteer.StreamBench/bin/Release/net10.0/linux-x64/PopSteer.StreamBench.dll all --events 100000
# 60% of each user's events replayed, at one alpha, without the drift story (no refit competes for
# the cores) and with the demo's in-process shadow scoring thinned to every 100th user: the runs measure the pipeline,
# not the schedule, the Retrainer or the demo's own bookkeeping.
demo() { dotnet "$CLI" demo --holdout 0.6 --alpha-schedule "0:1.5" --no-drift --shadow-every 100 --plain --threads "$THREADS" "${DATA[@]}" "$@"; }
echo "== the pipeline at full speed"
# The maximum is the flood's recommendations/s, not its events/s: a backlog scores each user once for all their
# queued events, while a paced stream wants one recommendation per event, so recommendations/s is what bounds it.
# One flood is a noisy yardstick (how much a backlog coalesces depends on how fast the Scorer starts: 6,679-7,200
# recs/s over five floods of the same code on 8 Dec), so FLOODS runs (default 3) are made and their median sets the
# paced rates.
FLOODS="${FLOODS:-3}"
full=$(mktemp)
trap 'rm -f "$full"' EXIT
rates=()
for ((run = 1; run <= FLOODS; run++)); do
  # The first is shown as it runs (tee to a file: tee /dev/stderr would reopen, and truncate, a redirected log); the
  # others by their summary line.
  if ((run == 1)); then demo --rate 0 "$@" | tee "$full"; else demo --rate 0 "$@" >"$full"; fi
  out=$(cat "$full")
  flood=$(grep -oE '= [0-9,]+ events/s' <<<"$out" | tail -1 | tr -dc '0-9')
  recs=$(grep -oE '= [0-9,]+ recs/s' <<<"$out" | tail -1 | tr -dc '0-9')
  if [[ -z "$recs" ]]; then echo "could not read the maximum rate from the demo's summary" >&2; exit 1; fi
  echo "-- flood $run of $FLOODS: $recs recommendations/s ($flood events/s served)"
  rates+=("$recs")
done
max=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "== maximum: $max recommendations/s (the median of ${FLOODS} floods: ${rates[*]}; a flood coalesces each user's queued events); paced runs at ${SHARES// /%, }% of $max events/s"
for share in $SHARES; do
  rate=$(( max * share / 100 ))
  echo "-- paced at ${share}% = $rate events/s"
  # 45 s each (35 s after the warm-up). The embedded (mock) broker walks each partition's log on every fetch; the
  # demo trims the logs behind the committed offsets (EmbeddedBrokerRetention), so long runs no longer slow down.
  demo --rate "$rate" --duration 45 "$@" | grep -E 'events served|latency|where it goes|CPU while|GC while' || true
done
# Scale-out: the services as separate OS processes (the chaos harness, no faults), one and then two Scorer
# processes in one consumer group, the same paced replay (SCALE_USERS x SCALE_EVENTS events over SCALE_SECONDS).
SCALE_USERS="${SCALE_USERS:-1000}"; SCALE_EVENTS="${SCALE_EVENTS:-10}"; SCALE_SECONDS="${SCALE_SECONDS:-20}"
dotnet build tests/PopSteer.Chaos -c Release -nologo -clp:ErrorsOnly
for scorers in 1 2; do
  echo "-- $scorers Scorer process(es), 2 Ingest, $((SCALE_USERS * SCALE_EVENTS / SCALE_SECONDS)) events/s paced"
  dotnet tests/PopSteer.Chaos/bin/Release/net10.0/linux-x64/PopSteer.Chaos.dll --no-faults --no-retrainer --scorers "$scorers" \
    --users "$SCALE_USERS" --events-per-user "$SCALE_EVENTS" --duration "$SCALE_SECONDS" | grep -E '^pipeline:|events acknowledged|^(PASS|FAIL)' || true
done
echo "== the machine again"
dotnet "$BENCH" peak --threads "$THREADS"
