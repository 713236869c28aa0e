#!/usr/bin/env bash
# Runs the whole test suite: unit tests (real TorchSharp), CLI tests, and integration tests (a real redis-server on a
# free port, the librdkafka mock cluster over TCP). Sets up what it needs first. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-prereqs.sh
dotnet build PopSteer.Stream.sln -c Release -nologo -clp:ErrorsOnly
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test PopSteer.Stream.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line over every test assembly. dotnet test prints per assembly either a block
# ("Total tests: 122" / "     Passed: 122" / "     Failed: 1" / "    Skipped: 2") or, at minimal verbosity,
# "Passed!  - Failed: 0, Passed: 122, Skipped: 0, ...".
awk '/^ +(Passed|Failed|Skipped): +[0-9]+ *$/ { n[$1] += $2 }
     /(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) if ($i ~ /^(Passed|Failed|Skipped):$/) n[$i] += $(i + 1) + 0
     }
     END { printf "%d passed, %d failed, %d skipped\n", n["Passed:"], n["Failed:"], n["Skipped:"] }' "$log"
exit $status
