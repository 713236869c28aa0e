#!/usr/bin/env bash
# The chaos drill (docs/chaos.md): a private redis-server, the embedded Kafka broker, 2 Ingest, 2 Scorer and 1
# Retrainer as separate OS processes (restarted on exit); a known event set replayed while a seeded schedule kills,
# stops and misconfigures them; then a check against ground truth. Prints one table and exits non-zero on any loss.
# Defaults are the drill's own: --duration 120 --seed 1, 300 users x 10 events. Arguments go to the drill (--help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-prereqs.sh
# Builds the drill and, through its project references, the three services and the CLI it runs.
nice -n 10 dotnet build tests/PopSteer.Chaos -c Release -nologo -clp:ErrorsOnly
exec dotnet tests/PopSteer.Chaos/bin/Release/net10.0/linux-x64/PopSteer.Chaos.dll "$@"
