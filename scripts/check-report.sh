#!/bin/sh
# check-report.sh DIR [SHOT.png]: checks a `tinymlp compare` report as a reader meets it.
#   1. DIR/report.html is well-formed XML (xmllint, else python3's parser) and self-contained
#      (no scripts, no external links, no fetched resources);
#   2. headless Chromium renders it, and the DOM it builds holds every chart the page declares
#      (<meta name="tinymlp-charts">), each with marks drawn in it;
#   3. Chromium takes a screenshot of the whole page, SHOT.png (default DIR/report.png), to
#      look at.
# Installs the Debian package chromium with apt when run as root and it is missing (about
# 100 MB; otherwise it prints the apt line). Prints ok/FAIL lines and a final
# "check-report: N passed, N failed"; exit 1 if anything failed.
#   make BUILD=build && build/tinymlp compare --data mnist --report out && scripts/check-report.sh out
set -u
dir="${1:?usage: scripts/check-report.sh DIR [SHOT.png]}"
html="$dir/report.html"
shot="${2:-$dir/report.png}"
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; }
finish() { echo "check-report: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

[ -f "$html" ] || { bad "$html exists"; finish; }

# 1. well-formed and self-contained
if command -v xmllint >/dev/null 2>&1; then
    if xmllint --noout "$html" 2>/dev/null; then ok "report.html is well-formed (xmllint)"; else bad "report.html is well-formed (xmllint)"; fi
elif command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$html" 2>/dev/null; then
        ok "report.html is well-formed (python3 xml)"; else bad "report.html is well-formed (python3 xml)"; fi
else
    echo "skip  well-formedness: neither xmllint nor python3"
fi
if grep -Eiq '<script|<link|<img|<iframe|@import|url\(|src="|href="https?:' "$html"; then
    bad "report.html is self-contained"
else
    ok "report.html is self-contained"
fi
want=$(sed -nE 's/.*<meta name="tinymlp-charts" content="([0-9]+)".*/\1/p' "$html" | head -n 1)
[ -n "$want" ] && ok "report.html declares $want charts" || bad "report.html declares its charts"

# 2. rendered by Chromium
browser=""
for b in chromium chromium-browser; do command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }; done
if [ -z "$browser" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "check-report: installing chromium (Debian package)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }
        command -v chromium >/dev/null 2>&1 && browser=chromium
    else
        echo "check-report: needs Chromium: sudo apt-get install -y chromium" >&2
    fi
fi
[ -n "$browser" ] || { bad "a headless Chromium to render the report"; finish; }
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
flags="--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
if timeout 120 "$browser" $flags --dump-dom "$url" >"$tmp/dom.html" 2>"$tmp/err" && [ -s "$tmp/dom.html" ]; then
    ok "chromium renders the page"
else
    bad "chromium renders the page"; sed 's/^/      /' "$tmp/err" | tail -n 3
fi
# Count the rendered charts and the marks in each: a chart with no path, rect or circle
# drawn in it is an empty frame, unless it says "no data to draw" (class nodata), as it does
# for a run that stopped before its first epoch.
counts=$(python3 - "$tmp/dom.html" <<'PY' 2>/dev/null
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.charts = []; self.depth = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self.charts.append(0); self.depth = 1; return
        if self.depth:
            if tag == "svg": self.depth += 1
            if (tag == "path" and len(a.get("d") or "") > 8) or tag in ("rect", "circle"):
                self.charts[-1] += 1
            if "nodata" in (a.get("class") or "").split():
                self.charts[-1] += 2
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.depth and tag == "svg": self.depth -= 1
    def handle_endtag(self, tag):
        if self.depth and tag == "svg": self.depth -= 1
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print(len(p.charts), sum(1 for c in p.charts if c < 2))
PY
)
if [ -z "$counts" ]; then  # no python3: count the chart elements only
    counts="$(grep -o '<svg[^>]*class="chart"' "$tmp/dom.html" | wc -l) 0"
fi
got=${counts% *}; empty=${counts#* }
[ "$got" = "$want" ] && ok "the browser's DOM holds all $want charts" || bad "the browser's DOM holds all charts (found $got, want $want)"
[ "$empty" = 0 ] && ok "every chart has marks drawn" || bad "every chart has marks drawn ($empty empty)"
# 3. a screenshot of the whole page: tall enough for every chart
height=$((1400 + 140 * ${want:-10}))
[ "$height" -gt 16000 ] && height=16000
# shellcheck disable=SC2086
if timeout 120 "$browser" $flags --window-size=1280,$height --screenshot="$shot" "$url" >/dev/null 2>"$tmp/err" &&
    [ -s "$shot" ]; then
    ok "screenshot: $shot (1280x$height)"
else
    bad "screenshot $shot"; sed 's/^/      /' "$tmp/err" | tail -n 3
fi
finish
