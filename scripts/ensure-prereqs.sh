#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine and is a no-op when it is already there.
# The .NET 10 SDK is assumed (it is not in Debian's archive); redis-server and promtool (the prometheus package, for
# the alert-rule checks) come from Debian.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK (dotnet) is not on PATH; install it first (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian package) ..."
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
  # The Debian package starts a system-wide instance; the project never uses it (tests and the demo start their own).
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

# promtool checks deploy/monitoring's alert rules in the tests (they skip with a message without it). It ships in
# Debian's prometheus package, whose system service is of no use here: the package's own is stopped and disabled.
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing prometheus (Debian package, for promtool) ..."
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  if [ -x /etc/init.d/prometheus ]; then $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true; fi
fi
