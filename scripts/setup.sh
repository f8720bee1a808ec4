#!/usr/bin/env bash
# Installs what DAFT needs on a fresh Debian/Ubuntu machine and builds it. Idempotent.
#  - npm packages (package-lock.json; onnxruntime-node's download step is skipped by .npmrc, its CPU binaries are bundled)
#  - Debian packages for the Python training package and its tests (python3-torch, python3-onnx, …), dicom3tools
#    (dciodvfy, which the DICOM-SEG end-to-end test runs) and dcmtk (an independent JPEG-lossless / RLE encoder for
#    the compressed-DICOM tests), only when missing
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(python3-torch python3-onnx python3-numpy python3-pytest python3-pil python3-nibabel python3-scipy python3-matplotlib python3-pydicom chromium dicom3tools dcmtk teem-apps libopenjp2-tools openjph-tools)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: building TypeScript (tsc + single-file CLI bundle for fast start-up)" >&2
rm -rf packages/node/dist/bundle
npm run --silent build
