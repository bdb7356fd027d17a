#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, and nothing that is
# already there: zlib headers (the CZlib module), gzip/coreutils (zcat, tail -F in tests),
# jq, Chromium (the replay HTML report is opened headless and screenshotted), rsyslog (its imfile
# module tails our rotating files in a test, as a log shipper does), Python's jsonschema (the
# schema checker), prometheus_client (its parser reads our /metrics text) and PyYAML (the
# shipping configurations in tools/agents are parsed by a test).
set -euo pipefail
need_apt=()
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
command -v gzip >/dev/null || need_apt+=(gzip)
command -v tail >/dev/null || need_apt+=(coreutils)
command -v jq >/dev/null || need_apt+=(jq)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -x /usr/sbin/rsyslogd ] || need_apt+=(rsyslog)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
for pair in jsonschema:jsonschema prometheus_client:prometheus_client yaml:PyYAML; do
    module=${pair%%:*}
    package=${pair#*:}
    if ! python3 -c "import $module" 2>/dev/null; then
        echo "setup: installing $package"
        python3 -m pip install --quiet "$package"
    fi
done
