#!/usr/bin/env bash
# Installs the Debian packages Ovation needs when they are missing: ffmpeg and sox (tests generate real audio),
# fpcalc from libchromaprint-tools (acoustic fingerprints). Browser tests need chromium and its driver, the
# proxy tests nginx.
# Safe to run repeatedly: it installs nothing when every tool is already there.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v fpcalc >/dev/null 2>&1 || need+=(libchromaprint-tools)
if [ "${OVATION_WITH_BROWSER:-0}" = "1" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # The proxy tests run compose.yaml's nginx configuration (deploy/nginx.conf) in front of a real API.
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
fi
# Extra packages a caller needs once (e.g. docker-compose to validate compose.yaml).
for package in ${OVATION_EXTRA_PACKAGES:-}; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done

[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second checkout's set-up, unattended upgrades) holds the lock for a while: wait for it.
wait_lock=(-o DPkg::Lock::Timeout=600)
$sudo apt-get "${wait_lock[@]}" update -qq
$sudo apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
