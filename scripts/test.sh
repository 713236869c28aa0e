#!/usr/bin/env bash
# Runs the whole test suite: unit tests (real TorchSharp) and integration tests (a real redis-server on a
# free port, the librdkafka mock cluster over TCP). Sets up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-prereqs.sh
dotnet build PopSteer.Stream.sln -c Release -nologo -clp:ErrorsOnly
dotnet test PopSteer.Stream.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@"
