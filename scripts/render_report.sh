#!/usr/bin/env bash
# Render a published XLSX the way a reader's office suite prints it: PDF (LibreOffice headless) and one
# PNG per page (poppler's pdftoppm). For checking the layout by eye; the test suite does not need it.
#
#   scripts/render_report.sh <report.xlsx> <outdir> [dpi]
#
# Writes <outdir>/<name>.pdf and <outdir>/<name>-<page>.png (dpi default 80). Needs `soffice` and
# `pdftoppm` (Debian: apt-get install --no-install-recommends libreoffice-calc poppler-utils fonts-dejavu).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 <report.xlsx> <outdir> [dpi]" >&2
    exit 2
fi
xlsx=$1
outdir=$2
dpi=${3:-80}
[[ -f "$xlsx" ]] || { echo "no such file: $xlsx" >&2; exit 2; }
for tool in soffice pdftoppm; do
    command -v "$tool" >/dev/null || { echo "$tool not found (install libreoffice-calc / poppler-utils)" >&2; exit 3; }
done
mkdir -p "$outdir"
name=$(basename "${xlsx%.*}")

# a private LibreOffice profile: no clash with a running office, no first-start dialogs
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
soffice -env:UserInstallation="file://$profile" --headless --norestore \
    --convert-to pdf --outdir "$outdir" "$xlsx" >/dev/null 2>&1 || true
pdf="$outdir/$name.pdf"
[[ -s "$pdf" ]] || { echo "LibreOffice did not write $pdf" >&2; exit 1; }

rm -f "$outdir/$name"-*.png
pdftoppm -r "$dpi" -png "$pdf" "$outdir/$name"
pages=$(ls "$outdir/$name"-*.png | wc -l)
echo "$pdf ($pages page(s))"
ls "$outdir/$name"-*.png
