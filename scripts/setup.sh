#!/usr/bin/env bash
# Installs the Debian packages tandem needs to build and test. Idempotent: on a
# machine that has them all it changes nothing. Run as root (or with sudo).
set -euo pipefail

# Each package and the part of tandem that uses it:
PACKAGES=(
  build-essential cmake ninja-build pkg-config git  # the build (CMake + Ninja)
  libhwy-dev             # SIMD kernels (src/tensor, src/model/ops_simd.cc), runtime dispatch
  nlohmann-json3-dev     # JSON: tokenizer fixtures, chat conversations, JSON schema, --json output
  libcli11-dev           # command-line parsing (src/cli)
  libpcre2-dev           # tokenizer pre-tokenizer regexes (src/tokenizer)
  libicu-dev             # Unicode code point classes (src/tokenizer/unicode.h)
  libgtest-dev libgmock-dev  # tests/
  libbenchmark-dev       # bench/ (optional at configure time)
  clang                  # fuzz/ (libFuzzer targets need clang)
  libcpp-httplib-dev libssl-dev  # remote OpenAI-compatible models and `tandem serve` (HTTP, HTTPS)
  libyaml-cpp-dev        # model configuration files (configs/*.yaml)
  libsqlite3-dev         # eval records (RUN_DIR/records.sqlite)
  curl jq                # tests/server/serve_curl_test.sh: tandem serve driven by a second, non-official client
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# tests/server/npm: the official openai npm client against tandem serve (npm ci from the lockfile).
# Debian's nodejs and npm only where no node/npm is on PATH: NodeSource's nodejs (on the project's
# machines) bundles npm and conflicts with Debian's npm package, so asking apt for it there fails.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages (and node, npm) are installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
