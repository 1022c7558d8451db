#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that building and testing Scispot MCP
# Desktop need. Idempotent: installs only what is missing and says what.
#   packaging/dev-deps.sh                    install what is missing (uses sudo when not root)
#   packaging/dev-deps.sh --check            exit 1 and name what is missing, install nothing
#   packaging/dev-deps.sh --package [--check] also the installer tools (make package)
set -euo pipefail

packages=(
  gcc pkg-config libgl1-mesa-dev xorg-dev  # building the Fyne tray (cgo, OpenGL, X11)
  libpam0g-dev     # scispot-mcpd checks the account password through PAM (cgo)
  xvfb imagemagick x11-utils               # the tray's smoke test: a real window, a screenshot
  gnome-keyring    # a real Secret Service for the keychain tests
  dbus-x11         # dbus-run-session: a private session bus for tests
  libsecret-tools  # secret-tool, to inspect the keychain by hand
  git make ca-certificates
  rsyslog rsyslog-gnutls  # a real syslog server (TLS listener) for the audit forwarding tests
  chromium poppler-utils  # the validation report: HTML opened and printed headless, PDF text read by pdftotext
)
# make package: the Windows cross-compiler, the MSI and .deb tools and
# their linters. Only asked for with --package: they are large.
if [ "${1:-}" = "--package" ]; then
  shift
  packages+=(gcc-mingw-w64-x86-64 wixl msitools dpkg-dev lintian shellcheck)
fi
# The interop test drives the gateway with the official TypeScript SDK.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing system packages: ${missing[*]}" >&2
    exit 1
  fi
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go 1.26 or newer is needed: install it from https://go.dev/dl/ and put it on PATH." >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "dev-deps: all system packages present."
  exit 0
fi
echo "dev-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
