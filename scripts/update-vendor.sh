#!/usr/bin/env bash
# Refresh the browser libraries that the app ships inside its Python package (app/vendor/).
#
# The versions are pinned in package.json (exact versions) and package-lock.json; this script
# installs exactly those with `npm ci`, copies the files the app serves and the licences of
# every package bundled into them, and writes app/vendor/versions.json. Installing or running
# the app never needs npm: only this script does. To move to a new release:
#   edit the version in package.json, run `npm install --package-lock-only`, then this script,
#   and commit package.json, package-lock.json and app/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --silent

# served file                 package            path inside the package
FILES=(
  "socket.io.min.js           socket.io-client   dist/socket.io.min.js"
  "socket.io.esm.min.js       socket.io-client   dist/socket.io.esm.min.js"
  "chart.umd.min.js           chart.js           dist/chart.umd.min.js"
  "swagger-ui-bundle.js       swagger-ui-dist    swagger-ui-bundle.js"
  "swagger-ui.css             swagger-ui-dist    swagger-ui.css"
)
# Every package whose code is inside the files above (their bundles include these).
LICENSED=(socket.io-client engine.io-client engine.io-parser socket.io-parser
          @socket.io/component-emitter chart.js @kurkle/color swagger-ui-dist)

out=app/vendor
rm -rf "$out/files" "$out/licenses"
mkdir -p "$out/files" "$out/licenses"
for line in "${FILES[@]}"; do
  read -r name package path <<<"$line"
  cp "node_modules/$package/$path" "$out/files/$name"
done
for package in "${LICENSED[@]}"; do
  licence=$(find "node_modules/$package" -maxdepth 1 -iname 'licen[cs]e*' | head -n 1)
  [ -n "$licence" ] || { echo "no licence file in node_modules/$package" >&2; exit 1; }
  cp "$licence" "$out/licenses/${package//\//__}.txt"
done
# Swagger UI's bundle carries many packages: their licence notices come with it, as does
# its Apache NOTICE.
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt "$out/licenses/swagger-ui-bundle.js.bundled-licenses.txt"
cp node_modules/swagger-ui-dist/NOTICE "$out/licenses/swagger-ui-dist.NOTICE.txt"
node - "${LICENSED[@]}" >"$out/versions.json" <<'JS'
const fs = require("fs");
const packages = {};
for (const name of process.argv.slice(2)) {
  const meta = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8"));
  packages[name] = { version: meta.version, license: meta.license,
                     license_file: `licenses/${name.replaceAll("/", "__")}.txt` };
}
process.stdout.write(JSON.stringify(packages, null, 2) + "\n");
JS
echo "Updated $out:"; ls -l "$out/files"; cat "$out/versions.json"
