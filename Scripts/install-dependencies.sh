#!/usr/bin/env bash
# Installs, from Debian's packages, what building, running and testing DemandScreen needs beyond
# the Swift toolchain: MeCab and its IPADIC dictionary (Japanese morphology), Snowball's stemmers
# (English), PostgreSQL (the tests' second backend), python3 (test helpers), and for the C client
# (Clients/c) protobuf-c, its compiler, OpenSSL's and json-c's headers, a C compiler and
# pkg-config. Skips apt when everything is already there.
set -euo pipefail
packages=(libmecab-dev mecab-ipadic-utf8 libstemmer-dev postgresql python3
    libprotobuf-c-dev protobuf-c-compiler libssl-dev libjson-c-dev gcc make pkg-config openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
