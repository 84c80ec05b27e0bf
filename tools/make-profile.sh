#!/bin/sh
# Regenerate profiles/FOGRA39-bindery.icc, the CMYK output profile of the print
# PDF's PDF/X output intent, from the FOGRA39L measurement data that Debian's
# icc-profiles-free ships, with ArgyllCMS's colprof. See profiles/README.md.
#
# Usage: tools/make-profile.sh [output.icc]
# As root on Debian it installs argyll and icc-profiles-free when missing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/profiles/FOGRA39-bindery.icc}
data=/usr/share/color/icc/FOGRA39L.ti3

need=""
command -v colprof >/dev/null 2>&1 || need="$need argyll"
[ -r "$data" ] || need="$need icc-profiles-free"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing:$need"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "missing system packages:$need" >&2
        echo "install them with: sudo apt-get install$need" >&2
        exit 1
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# colprof takes the base name of the .ti3 and writes <base>.icc beside it.
cp "$data" "$work/fogra39.ti3"
# -qm: medium-quality A2B tables (avg. 0.16 dE to the data); -bl: low-quality
# B2A tables, which keeps the file near 70 KB (-qh makes 0.5 MB for no visible
# gain: the PDF only needs the profile to describe CMYK, not to convert to it).
# -nc: leave the 125 KB of measurements out of the profile.
# -l 330: the total ink limit of the FOGRA39 / ISO Coated v2 condition.
colprof -qm -bl -nc -l 330 \
    -D "FOGRA39 (ISO 12647-2 coated paper), bindery build" \
    -C "Made with ArgyllCMS colprof from FOGRA39L data (Fogra). Zlib licence, no warranty." \
    "$work/fogra39" >/dev/null

# colprof stamps the current time into the ICC header (bytes 24-35); a fixed
# date (SOURCE_DATE_EPOCH, else 2025-01-01) makes the file reproducible. A v2
# profile has no MD5 profile ID over the header that this would invalidate.
python3 - "$work/fogra39.icc" <<'PY'
import os, struct, sys, time
path = sys.argv[1]
moment = time.gmtime(int(os.environ.get('SOURCE_DATE_EPOCH', '1735689600')))
with open(path, 'r+b') as profile:
    profile.seek(24)
    profile.write(struct.pack('>6H', *moment[:6]))
PY

mkdir -p "$(dirname "$out")"
mv "$work/fogra39.icc" "$out"
echo "wrote $out ($(wc -c <"$out") bytes)"
