#!/usr/bin/env bash
# Streaming load run on this machine, in one go: the raw ceilings first (embedded Kafka produce/consume,
# redis-benchmark with pipelining, the SequenceStore Lua append, Ingest alone), then the whole pipeline as fast as
# possible (`popsteer demo --rate 0`: Ingest + Scorer + the view, events replayed with no pacing).
# Extra arguments go to `popsteer demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-prereqs.sh
dotnet build PopSteer.Stream.sln -c Release -nologo -clp:ErrorsOnly
echo "== raw ceilings"
dotnet bench/PopSteer.StreamBench/bin/Release/net10.0/linux-x64/PopSteer.StreamBench.dll all --events 100000
echo "== the pipeline at full speed"
# 60% of each user's events replayed (about 30,000), at one alpha, so the run measures throughput, not the schedule.
dotnet src/PopSteer.Cli/bin/Release/net10.0/linux-x64/popsteer.dll demo --rate 0 --holdout 0.6 --alpha-schedule "0:1.5" --plain "$@"
