#!/usr/bin/env bash
# Re-vendor the JavaScript the built book needs offline (run by hand when bumping versions;
# the output in book/_static/vendor is committed so builds and readers need no network).
# Versions: Vega-Lite must match altair.SCHEMA_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
out=book/_static/vendor
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent vega@6.2.0 vega-lite@6.4.1 vega-embed@7.1.0 katex@0.16.10 >/dev/null)
for f in "$tmp"/*.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
rm -rf "$out" && mkdir -p "$out/katex/fonts"
cp "$tmp"/vega-6.2.0/package/build/vega.min.js "$out/"
cp "$tmp"/vega-lite-6.4.1/package/build/vega-lite.min.js "$out/"
cp "$tmp"/vega-embed-7.1.0/package/build/vega-embed.min.js "$out/"
# KaTeX's stylesheet and its woff2 fonts (the stylesheet's woff/ttf fallbacks are for browsers
# from before 2016 and are not shipped); its script comes with sphinxcontrib-katex, whose
# bundled version this must match (sphinxcontrib.katex.katex_version)
cp "$tmp"/katex-0.16.10/package/dist/katex.min.css "$out/katex/"
cp "$tmp"/katex-0.16.10/package/dist/fonts/*.woff2 "$out/katex/fonts/"
sed -i -E 's/,url\(fonts\/[^)]*\.(woff|ttf)\) format\("(woff|truetype)"\)//g' "$out/katex/katex.min.css"
for p in vega-6.2.0 vega-lite-6.4.1 vega-embed-7.1.0 katex-0.16.10; do
  cp "$tmp/$p/package/LICENSE" "$out/LICENSE.$p" 2>/dev/null || true
done
printf 'vega 6.2.0\nvega-lite 6.4.1\nvega-embed 7.1.0\nkatex 0.16.10\n' > "$out/VERSIONS"
sed -i '/sourceMappingURL/d' "$out"/*.min.js
rm -rf "$tmp"
echo "vendored into $out"
