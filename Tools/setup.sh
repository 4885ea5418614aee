#!/usr/bin/env bash
# Installs the Debian packages ConvLens builds and runs with, if any is missing:
#   ocl-icd-opencl-dev, opencl-headers  OpenCL headers and the ICD loader (libOpenCL)
#   libpng-dev                          PNG reading and writing
#   libjpeg-dev                         JPEG reading (libjpeg-turbo)
#   pocl-opencl-icd                     an OpenCL driver for the CPU, so everything runs without a GPU
# Safe to run again: it does nothing when all are present. Needs root or sudo for the install.
set -euo pipefail

packages=(ocl-icd-opencl-dev opencl-headers libpng-dev libjpeg-dev pocl-opencl-icd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
