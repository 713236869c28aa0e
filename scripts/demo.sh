#!/usr/bin/env bash
# The main job: the end-to-end demo on its embedded defaults (Redis and the embedded Kafka broker are started
# and stopped by the demo itself). Extra arguments go to `popsteer demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-prereqs.sh
dotnet build src/PopSteer.Cli -c Release -nologo -clp:ErrorsOnly
exec dotnet src/PopSteer.Cli/bin/Release/net10.0/linux-x64/popsteer.dll demo "$@"
