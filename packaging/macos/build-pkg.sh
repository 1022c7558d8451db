#!/usr/bin/env bash
# Builds the signed, notarized macOS installer on a Mac:
#   dist/scispot-mcp-VERSION.pkg  installs /Applications/Scispot MCP.app (a
#   universal arm64 + x86_64 menu-bar app, with the CLI scispot-mcp and the
#   service scispot-mcpd beside the tray in Contents/MacOS), the
#   LaunchDaemon /Library/LaunchDaemons/io.scispot.mcpd.plist (the
#   workstation service, root, from boot), the LaunchAgent
#   /Library/LaunchAgents/io.scispot.mcp.plist (the tray at every login) and
#   the /usr/local/bin/scispot-mcp link; it starts the service, and the tray
#   for the user logged in at install time.
#
#   packaging/macos/build-pkg.sh              sign, notarize, staple
#   packaging/macos/build-pkg.sh --unsigned   a local test build: no signing, no notarization
#
# Environment (required unless --unsigned):
#   SCISPOT_APP_IDENTITY     "Developer ID Application: Example Lab (TEAMID)"
#   SCISPOT_PKG_IDENTITY     "Developer ID Installer: Example Lab (TEAMID)"
#   SCISPOT_NOTARY_PROFILE   a notarytool keychain profile, created once with
#                            xcrun notarytool store-credentials PROFILE --apple-id … --team-id …
# Optional: VERSION (default: git describe), OUT (default: dist).
# Needs Xcode's command line tools and Go 1.26.
set -euo pipefail

die() { echo "build-pkg.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

unsigned=0
case "${1:-}" in
  "") ;;
  --unsigned) unsigned=1 ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build-pkg.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac

[ "$(uname -s)" = Darwin ] || die "this builds the macOS package and needs a Mac (Linux and Windows: packaging/package.sh)"
for c in go git lipo codesign pkgbuild productbuild xcrun iconutil sips plutil; do
  command -v "$c" >/dev/null 2>&1 || die "$c not found: install Xcode's command line tools (xcode-select --install) and Go"
done
if [ "$unsigned" = 0 ]; then
  [ -n "${SCISPOT_APP_IDENTITY:-}" ] || die "SCISPOT_APP_IDENTITY is not set: the 'Developer ID Application: …' identity to sign the app with (security find-identity -v -p codesigning lists them), or pass --unsigned for a test build"
  [ -n "${SCISPOT_PKG_IDENTITY:-}" ] || die "SCISPOT_PKG_IDENTITY is not set: the 'Developer ID Installer: …' identity to sign the package with (security find-identity -v lists them)"
  [ -n "${SCISPOT_NOTARY_PROFILE:-}" ] || die "SCISPOT_NOTARY_PROFILE is not set: the notarytool keychain profile (xcrun notarytool store-credentials NAME --apple-id … --team-id …)"
  security find-identity -v -p codesigning | grep -qF "$SCISPOT_APP_IDENTITY" \
    || die "signing identity '$SCISPOT_APP_IDENTITY' is not in the keychain"
  security find-identity -v | grep -qF "$SCISPOT_PKG_IDENTITY" \
    || die "installer identity '$SCISPOT_PKG_IDENTITY' is not in the keychain"
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
commit=$(git rev-parse --short=12 HEAD)
version=${VERSION:-$(git describe --tags --always --dirty)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
date=$(date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
if [[ $version =~ ^v?([0-9]+\.[0-9]+\.[0-9]+) ]]; then
  short=${BASH_REMATCH[1]}
else
  short=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([0-9]*\.[0-9]*\.[0-9]*\)".*/\1/p' FyneApp.toml | head -n1)
  [ -n "$short" ] || die "no a.b.c version in FyneApp.toml and no v-tag in git"
fi
out=${OUT:-$repo/dist}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/scispot-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "Scispot MCP $version ($short, commit $commit)"

# --- universal executables -----------------------------------------------------
# scispot-mcp (serve, kill, the CLI) without cgo, so it starts in
# milliseconds; the tray (the bundle's executable) with cgo for Fyne; the
# service scispot-mcpd with cgo for PAM (the account password checks).
ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit -X main.date=$date"
export MACOSX_DEPLOYMENT_TARGET=11.0
for arch in arm64 amd64; do
  say "building darwin/$arch"
  CGO_ENABLED=0 GOOS=darwin GOARCH=$arch \
    go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$work/scispot-mcp-$arch" ./cmd/scispot-mcp
  for exe in scispot-mcp-tray scispot-mcpd; do
    CGO_ENABLED=1 GOOS=darwin GOARCH=$arch CGO_CFLAGS="-O2 -mmacosx-version-min=11.0" CGO_LDFLAGS="-mmacosx-version-min=11.0" \
      go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$work/$exe-$arch" "./cmd/$exe"
  done
done
for exe in scispot-mcp scispot-mcp-tray scispot-mcpd; do
  lipo -create -output "$work/$exe" "$work/$exe-arm64" "$work/$exe-amd64"
done

# --- the .app -------------------------------------------------------------------
say "Scispot MCP.app"
app="$work/root/Applications/Scispot MCP.app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
install -m 0755 "$work/scispot-mcp" "$app/Contents/MacOS/scispot-mcp"
install -m 0755 "$work/scispot-mcp-tray" "$app/Contents/MacOS/scispot-mcp-tray"
# The service beside the CLI: scispot-mcp looks for scispot-mcpd in its own
# folder, and the LaunchDaemon runs it from here (see io.scispot.mcpd.plist).
install -m 0755 "$work/scispot-mcpd" "$app/Contents/MacOS/scispot-mcpd"
sed -e "s/@VERSION@/$short/g" -e "s/@BUILD@/$version/g" "$here/Info.plist" > "$app/Contents/Info.plist"
plutil -lint "$app/Contents/Info.plist" >/dev/null
iconset="$work/icon.iconset"
mkdir -p "$iconset"
for n in 16 32 128 256; do
  sips -z "$n" "$n" assets/icon.png --out "$iconset/icon_${n}x${n}.png" >/dev/null
  sips -z $((n * 2)) $((n * 2)) assets/icon.png --out "$iconset/icon_${n}x${n}@2x.png" >/dev/null
done
iconutil -c icns -o "$app/Contents/Resources/icon.icns" "$iconset"

if [ "$unsigned" = 0 ]; then
  say "signing the app (hardened runtime)"
  # Inside out: the CLI and the service beside the bundle's executable
  # first, then the bundle.
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --sign "$SCISPOT_APP_IDENTITY" "$app/Contents/MacOS/scispot-mcp"
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --identifier io.scispot.mcpd --sign "$SCISPOT_APP_IDENTITY" "$app/Contents/MacOS/scispot-mcpd"
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --sign "$SCISPOT_APP_IDENTITY" "$app"
  codesign --verify --strict --verbose=2 "$app"
fi

# --- the LaunchDaemon, the LaunchAgent and the package ---------------------------
install -d -m 0755 "$work/root/Library/LaunchDaemons" "$work/root/Library/LaunchAgents"
install -m 0644 "$here/io.scispot.mcpd.plist" "$work/root/Library/LaunchDaemons/io.scispot.mcpd.plist"
install -m 0644 "$here/io.scispot.mcp.plist" "$work/root/Library/LaunchAgents/io.scispot.mcp.plist"
plutil -lint "$work/root/Library/LaunchDaemons/io.scispot.mcpd.plist" >/dev/null
plutil -lint "$work/root/Library/LaunchAgents/io.scispot.mcp.plist" >/dev/null

# The app must land in /Applications even when a copy exists elsewhere:
# turn off bundle relocation.
pkgbuild --analyze --root "$work/root" "$work/component.plist" >/dev/null
plutil -replace 0.BundleIsRelocatable -bool NO "$work/component.plist"

say "pkgbuild"
mkdir -p "$work/pkgs"
pkgbuild --root "$work/root" --component-plist "$work/component.plist" \
  --identifier io.scispot.mcp.pkg --version "$short" --install-location / \
  --scripts "$here/scripts" --ownership recommended \
  "$work/pkgs/scispot-mcp-component.pkg"

say "productbuild"
sed "s/@VERSION@/$short/g" "$here/distribution.xml" > "$work/distribution.xml"
pkg="$out/scispot-mcp-$version.pkg"
if [ "$unsigned" = 0 ]; then
  productbuild --distribution "$work/distribution.xml" --package-path "$work/pkgs" \
    --sign "$SCISPOT_PKG_IDENTITY" --timestamp "$pkg"
else
  productbuild --distribution "$work/distribution.xml" --package-path "$work/pkgs" "$pkg"
  say "unsigned test build: $pkg (not for distribution)"
  exit 0
fi

# --- notarize and staple ---------------------------------------------------------
say "notarizing (this waits for Apple)"
result=$(xcrun notarytool submit "$pkg" --keychain-profile "$SCISPOT_NOTARY_PROFILE" --wait --output-format json) \
  || die "notarytool submit failed: $result"
status=$(printf '%s' "$result" | plutil -extract status raw -o - - 2>/dev/null || echo unknown)
if [ "$status" != Accepted ]; then
  id=$(printf '%s' "$result" | plutil -extract id raw -o - - 2>/dev/null || echo "?")
  die "notarization status '$status' (submission $id); see: xcrun notarytool log $id --keychain-profile $SCISPOT_NOTARY_PROFILE"
fi
xcrun stapler staple "$pkg"
xcrun stapler validate "$pkg"
spctl --assess --type install --verbose=2 "$pkg"
(cd "$out" && shasum -a 256 "$(basename "$pkg")" > "$(basename "$pkg").sha256")
say "done: $pkg"
