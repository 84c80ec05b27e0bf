#!/bin/sh
# Install the Debian packages the builder calls: poppler-utils (pdftotext,
# pdftoppm), ghostscript (ink coverage), the Pango stack WeasyPrint draws text
# with and HarfBuzz's font subsetter; with the argument "test", also what only
# the tests use: Chromium, to load the gallery and the live preview, and
# Info-ZIP's unzip, to test the hand-off zips. As root on
# Debian it installs what is missing; elsewhere it prints what to install.
set -eu
need=""
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
command -v gs >/dev/null 2>&1 || need="$need ghostscript"
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need="$need libpango-1.0-0 libpangoft2-1.0-0"
# Without HarfBuzz's subsetter WeasyPrint subsets fonts with fontTools: 25 times
# slower (1.1 s instead of 0.04 s per PDF here) and with other bytes.
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need="$need libharfbuzz-subset0"
if [ "${1:-}" = test ]; then
    command -v chromium >/dev/null 2>&1 || need="$need chromium"
    command -v unzip >/dev/null 2>&1 || need="$need unzip"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing:$need"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
    echo "missing system packages:$need" >&2
    echo "install them with: sudo apt-get install$need" >&2
    exit 1
fi
