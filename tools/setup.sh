#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, and nothing that is
# already there: zlib headers (the CZlib module), gzip/coreutils (zcat, tail -F in tests),
# jq, and Python's jsonschema (the schema checker).
set -euo pipefail
need_apt=()
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
command -v gzip >/dev/null || need_apt+=(gzip)
command -v tail >/dev/null || need_apt+=(coreutils)
command -v jq >/dev/null || need_apt+=(jq)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "setup: installing jsonschema"
    python3 -m pip install --quiet jsonschema
fi
