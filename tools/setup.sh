#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, and nothing that is
# already there: zlib headers (the CZlib module), libdeflate's shared library (loaded at run time
# to compress and inflate whole gzip members; zlib does it where it is missing), gzip/coreutils (zcat, tail -F in tests),
# util-linux (unshare: the PID 1 test runs `hardening` as a container's first process), jq,
# Chromium and chromium-driver (the replay HTML report is opened headless and screenshotted; the
# agent's live /dashboard is driven through Selenium), rsyslog (its imfile module tails our
# rotating files in a test, as a log shipper does), and five Python modules: jsonschema (the
# schema checker), prometheus_client (its parser reads our /metrics text), PyYAML (the shipping
# configurations in tools/agents are parsed by a test), selenium (tools/dashboards/browser_check.py)
# and opentelemetry-proto (tools/otlp/otlp_receiver.py decodes what our OTLP exporter sends; it is
# on PyPI only, so a system Python that forbids pip gets it with --break-system-packages --user).
#
# The Python modules come from pip, unless `python3` is a system Python that forbids it (PEP 668,
# Debian's own python3 says "externally-managed-environment"): then from Debian's python3-*
# packages. HARDENING_SETUP_DRY_RUN=1 prints the commands instead of running them.
set -euo pipefail
run() {
    if [ "${HARDENING_SETUP_DRY_RUN:-}" = 1 ]; then echo "would run: $*"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_install() {
    echo "setup: installing $* (Debian packages)"
    run $SUDO apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

need_apt=()
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
compgen -G '/usr/lib/*/libdeflate.so.0' >/dev/null || [ -e /usr/lib/libdeflate.so.0 ] || need_apt+=(libdeflate0)
command -v gzip >/dev/null || need_apt+=(gzip)
command -v tail >/dev/null || need_apt+=(coreutils)
command -v unshare >/dev/null || need_apt+=(util-linux)
command -v jq >/dev/null || need_apt+=(jq)
command -v python3 >/dev/null || need_apt+=(python3)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
[ -x /usr/sbin/rsyslogd ] || need_apt+=(rsyslog)
if [ ${#need_apt[@]} -gt 0 ]; then apt_install "${need_apt[@]}"; fi

# A Python whose standard library carries EXTERNALLY-MANAGED takes no `pip install`.
managed=no
if python3 -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)' 2>/dev/null; then
    managed=yes
fi
need_pip=(); need_debian=()
for triple in jsonschema:jsonschema:python3-jsonschema prometheus_client:prometheus_client:python3-prometheus-client yaml:PyYAML:python3-yaml selenium:selenium:python3-selenium; do
    IFS=: read -r module package debian <<<"$triple"
    if ! python3 -c "import $module" 2>/dev/null; then
        need_pip+=("$package"); need_debian+=("$debian")
    fi
done
if [ ${#need_pip[@]} -gt 0 ]; then
    if [ "$managed" = yes ]; then
        apt_install "${need_debian[@]}"
    else
        echo "setup: installing ${need_pip[*]} (pip)"
        run python3 -m pip install --quiet "${need_pip[@]}"
    fi
fi

# opentelemetry-proto has no Debian package.
if ! python3 -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 2>/dev/null; then
    echo "setup: installing opentelemetry-proto (pip)"
    if [ "$managed" = yes ]; then
        run python3 -m pip install --quiet --user --break-system-packages opentelemetry-proto
    else
        run python3 -m pip install --quiet opentelemetry-proto
    fi
fi
