#!/usr/bin/env bash
# Builds the installers an MDM pushes, reproducibly, into dist/:
#   scispot-mcp_VERSION_amd64.deb      Debian/Ubuntu package
#   scispot-mcp-VERSION-x64.msi        Windows per-machine installer
#   linux-amd64/scispot-mcp, scispot-mcp-tray, scispot-mcpd   the executables inside them
#   windows-amd64/scispot-mcp.exe, scispot-mcp-tray.exe, scispot-mcpd.exe
#   policy-templates/                  ADMX/ADML, .mobileconfig, policy.json example,
#                                      Claude Code/Desktop profiles and .reg examples
#   sbom.cdx.json                      CycloneDX SBOM of the Go modules
#   SHA256SUMS
# The macOS .pkg needs a Mac: packaging/macos/build-pkg.sh.
#
#   packaging/package.sh                  build everything into dist/ (replaced)
#   packaging/package.sh --out DIR        into DIR (must not exist or be empty)
#   packaging/package.sh --only linux     only the .deb (or: windows)
#
# Building the same commit twice gives byte-identical .deb and executables:
# the version, commit and date come from git (SOURCE_DATE_EPOCH is the
# commit time), paths are trimmed, build ids are empty, and the source is
# built from a copy so nothing is written into the working tree. VERSION
# and SOURCE_DATE_EPOCH in the environment override git.
#
# Needs (Debian packages): golang 1.26, git, gcc, pkg-config, libgl1-mesa-dev,
# xorg-dev, libpam0g-dev, gcc-mingw-w64-x86-64, wixl, msitools, dpkg-dev. Go tools are
# installed at pinned versions into $SCISPOT_TOOLS_DIR (default
# $(go env GOPATH)/pkg/scispot-tools).
set -euo pipefail

GO_WINRES=github.com/tc-hib/go-winres@v0.3.3
CYCLONEDX=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0

die() { echo "package.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/dist"
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || die "--only needs linux or windows"; only=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in ""|linux|windows) ;; *) echo "package.sh: --only takes linux or windows" >&2; exit 2 ;; esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# --- what is needed, with one line saying how to get it --------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need go "golang (Go 1.26: https://go.dev/dl/)"
need git git
need dpkg-deb dpkg
if want linux; then
  need gcc gcc; need pkg-config pkg-config; need dpkg-shlibdeps dpkg-dev
  pkg-config --exists gl x11 xrandr xcursor xinerama xi 2>/dev/null || missing+=("libgl1-mesa-dev xorg-dev")
  [ -e /usr/include/security/pam_appl.h ] || missing+=(libpam0g-dev)
fi
if want windows; then
  need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64; need wixl wixl; need msiinfo msitools
fi
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}. On Debian/Ubuntu: apt-get install gcc pkg-config libgl1-mesa-dev xorg-dev libpam0g-dev gcc-mingw-w64-x86-64 wixl msitools dpkg-dev"
fi

# --- pinned Go tools --------------------------------------------------------
tools="${SCISPOT_TOOLS_DIR:-$(go env GOPATH)/pkg/scispot-tools}"
# tool MODULE/PATH@VERSION prints the installed binary, installing it once.
tool() {
  local spec=$1 name dir
  name=$(basename "${spec%@*}")
  dir="$tools/$name@${spec##*@}"
  if [ ! -x "$dir/$name" ]; then
    say "installing $spec"
    GOBIN="$dir" GOFLAGS='' go install "$spec" >&2 || die "could not install $spec (is the Go module proxy reachable?)"
  fi
  echo "$dir/$name"
}

# --- version, commit, date --------------------------------------------------
cd "$repo"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || die "not a git checkout: the version comes from git"
version=${VERSION:-$(git describe --tags --always --dirty)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# The packages need a version starting with a number: v1.2.3 -> 1.2.3,
# v1.2.3-4-gabc -> 1.2.3+4.gabc; with no tag, FyneApp.toml's version plus
# ~git.DATE.COMMIT (which sorts before that release). The MSI takes the
# numeric a.b.c only (all Windows Installer compares).
if [[ $version =~ ^v?([0-9]+)\.([0-9]+)\.([0-9]+)(.*)$ ]]; then
  base="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  rest=${BASH_REMATCH[4]#[-+]}
  pkgver=$base${rest:++${rest}}
else
  base=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([0-9]*\.[0-9]*\.[0-9]*\)".*/\1/p' FyneApp.toml | head -n1)
  [ -n "$base" ] || die "no a.b.c version in FyneApp.toml and no v-tag in git"
  pkgver="$base~git.$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d).$version"
fi
pkgver=$(printf '%s' "$pkgver" | tr -- '-_' '..' | tr -cd 'A-Za-z0-9.+~')
msiver=$base
say "scispot-mcp $version (package $pkgver, commit $commit, $date)"

# --- output and scratch -----------------------------------------------------
if [ "$out" = "$repo/dist" ]; then
  rm -rf "$out"
elif [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  die "$out exists and is not empty; pass an empty or new directory to --out"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/scispot-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Build from a copy of the tracked and unignored files, so that the Windows
# resource objects (.syso) never land in the working tree and nothing else
# there (bin/, test binaries) can reach the build.
say "copying the source"
mkdir -p "$work/src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$work/src"
src="$work/src"

ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit -X main.date=$date"
gobuild() { (cd "$src" && go build -trimpath -buildvcs=false "$@"); }

# Icons at every size and an .ico, from assets/icon.png (a placeholder is
# drawn when it is missing, and said so).
say "icons"
(cd "$src" && go run ./packaging/pkgtool icons -src assets/icon.png -out "$work/icons")

# SBOM of the Go modules (every platform's), without serial number or time.
say "SBOM"
cyclonedx=$(tool "$CYCLONEDX")
(cd "$repo" && GOFLAGS=-mod=readonly "$cyclonedx" mod -json -licenses -noserial -notimestamp -output "$out/sbom.cdx.json" . ) >&2 \
  || die "cyclonedx-gomod failed"
# The version stamped into the executables is the SBOM's application
# version too (validate's IQ-09 compares them).
(cd "$src" && go run ./packaging/pkgtool sbom -version "$version" "$out/sbom.cdx.json")

mkdir -p "$out/policy-templates/windows/en-US" "$out/policy-templates/macos" "$out/policy-templates/linux"
install -m 0644 packaging/windows/ScispotMCP.admx "$out/policy-templates/windows/"
install -m 0644 packaging/windows/en-US/ScispotMCP.adml "$out/policy-templates/windows/en-US/"
install -m 0644 packaging/macos/io.scispot.mcp.mobileconfig "$out/policy-templates/macos/"
# The AI clients' own managed settings: Claude Code denies direct Scispot
# connections, Claude Desktop gets the gateway as a managed server.
install -m 0644 packaging/macos/com.anthropic.claudecode.mobileconfig packaging/macos/com.anthropic.claudefordesktop.mobileconfig "$out/policy-templates/macos/"
install -m 0644 packaging/windows/ClaudeCode.reg packaging/windows/Claude.reg "$out/policy-templates/windows/"
install -m 0644 packaging/linux/policy.example.json "$out/policy-templates/linux/"

# --- Linux --------------------------------------------------------------------
if want linux; then
  say "linux/amd64 executables"
  mkdir -p "$out/linux-amd64"
  # PIE, as Debian's hardening expects of every executable. scispot-mcp
  # (serve, kill, the CLI) is static, without cgo, so it starts in
  # milliseconds; the tray needs cgo for Fyne's OpenGL driver, the service
  # (scispot-mcpd) for PAM.
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 gobuild -buildmode=pie -ldflags "$ldflags" \
    -o "$out/linux-amd64/scispot-mcp" ./cmd/scispot-mcp
  CGO_ENABLED=1 GOOS=linux GOARCH=amd64 CC=gcc gobuild -buildmode=pie -ldflags "$ldflags" \
    -o "$out/linux-amd64/scispot-mcp-tray" ./cmd/scispot-mcp-tray
  # The service runs as root and hands passwords to PAM through its C part:
  # Debian's hardening flags for that part (fortified libc calls, stack
  # protector, read-only relocations bound at start).
  CGO_ENABLED=1 GOOS=linux GOARCH=amd64 CC=gcc \
    CGO_CFLAGS="-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong" \
    gobuild -buildmode=pie -ldflags "$ldflags -extldflags=-Wl,-z,relro,-z,now" \
    -o "$out/linux-amd64/scispot-mcpd" ./cmd/scispot-mcpd

  say ".deb"
  root="$work/deb"
  doc="$root/usr/share/doc/scispot-mcp"
  install -D -m 0755 "$out/linux-amd64/scispot-mcp" "$root/usr/bin/scispot-mcp"
  install -D -m 0755 "$out/linux-amd64/scispot-mcp-tray" "$root/usr/bin/scispot-mcp-tray"
  # The service beside the CLI: scispot-mcp looks for scispot-mcpd in its own
  # folder (for the demo instance where no service answers). The unit,
  # enabled and started by postinst; the PAM service it checks passwords
  # with, a conffile (an admin's edits survive upgrades).
  install -D -m 0755 "$out/linux-amd64/scispot-mcpd" "$root/usr/bin/scispot-mcpd"
  install -D -m 0644 packaging/linux/scispot-mcpd.service "$root/usr/lib/systemd/system/scispot-mcpd.service"
  install -D -m 0644 packaging/linux/pam.d/scispot-mcp "$root/etc/pam.d/scispot-mcp"
  install -D -m 0644 packaging/linux/io.scispot.mcp.desktop "$root/usr/share/applications/io.scispot.mcp.desktop"
  install -D -m 0644 packaging/linux/io.scispot.mcp.autostart.desktop "$root/etc/xdg/autostart/io.scispot.mcp.desktop"
  for n in 16 24 32 48 64 128 256; do
    install -D -m 0644 "$work/icons/icon-$n.png" "$root/usr/share/icons/hicolor/${n}x$n/apps/io.scispot.mcp.png"
  done
  # The policy directory exists, root-owned 0755, so only root can put
  # policy.json there; the package installs no policy (the admin's tooling
  # does). The example beside it is a conffile: upgrades keep local edits.
  install -D -m 0644 packaging/linux/policy.example.json "$root/etc/scispot-mcp/policy.example.json"
  install -D -m 0644 packaging/linux/policy.example.json "$doc/examples/policy.example.json"
  sed "s/@YEAR@/$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)/" packaging/linux/copyright > "$doc/copyright"
  install -D -m 0644 "$out/sbom.cdx.json" "$doc/sbom.cdx.json"
  {
    printf 'scispot-mcp (%s) unstable; urgency=medium\n\n' "$pkgver"
    printf '  * Scispot MCP Desktop %s, built from commit %s.\n\n' "$version" "$commit"
    printf ' -- Scispot <support@scispot.com>  %s\n' "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n > "$doc/changelog.gz"
  mkdir -p "$root/usr/share/man/man1" "$root/usr/share/man/man8"
  sed "s/@VERSION@/$pkgver/" packaging/linux/scispot-mcp.1 | gzip -9n > "$root/usr/share/man/man1/scispot-mcp.1.gz"
  sed "s/@VERSION@/$pkgver/" packaging/linux/scispot-mcpd.8 | gzip -9n > "$root/usr/share/man/man8/scispot-mcpd.8.gz"
  chmod 0644 "$doc/copyright" "$doc/changelog.gz" "$root/usr/share/man/man1/scispot-mcp.1.gz" "$root/usr/share/man/man8/scispot-mcpd.8.gz"
  ln -s scispot-mcp.1.gz "$root/usr/share/man/man1/scispot-mcp-tray.1.gz"
  install -D -m 0644 packaging/linux/lintian-overrides "$root/usr/share/lintian/overrides/scispot-mcp"

  # The conffiles: dpkg keeps an admin's edits to them across upgrades.
  conffiles=(/etc/pam.d/scispot-mcp /etc/scispot-mcp/policy.example.json /etc/xdg/autostart/io.scispot.mcp.desktop)

  # SHA256SUMS of every file the package installs (sha256sum format, paths
  # relative to /), which `scispot-mcp validate` checks the installation
  # against (IQ-01); the SBOM is among them. Left out: the list itself, the
  # conffiles (admins are expected to edit them: the PAM service for their
  # directory, the autostart entry to turn the tray off for everyone, the
  # example policy; IQ-11 checks the autostart entry by what it says) and
  # symlinks (sha256sum would hash their targets, listed themselves).
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    grep -vxF -f <(printf '%s\n' "${conffiles[@]#/}") | xargs sha256sum) > "$work/deb-SHA256SUMS"
  install -D -m 0644 "$work/deb-SHA256SUMS" "$root/usr/share/scispot-mcp/SHA256SUMS"

  # Library dependencies of the cgo executables, as Debian computes them.
  mkdir -p "$work/shlibs/debian"
  printf 'Source: scispot-mcp\n\nPackage: scispot-mcp\nArchitecture: amd64\n' > "$work/shlibs/debian/control"
  depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/scispot-mcp-tray" "$root/usr/bin/scispot-mcpd" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  [ -n "$depends" ] || die "dpkg-shlibdeps found no library dependencies"
  [[ $depends == *libpam0g* ]] || die "dpkg-shlibdeps did not find libpam0g for scispot-mcpd: $depends"
  # The maintainer scripts enable and start the service with
  # deb-systemd-helper and deb-systemd-invoke (init-system-helpers).
  depends="$depends, init-system-helpers (>= 1.54~)"

  # Maintainer scripts: enable, start and restart the service (postinst),
  # stop it (prerm), forget it (postrm); see the scripts.
  mkdir -p "$root/DEBIAN"
  for s in postinst prerm postrm; do
    install -m 0755 "packaging/linux/$s" "$root/DEBIAN/$s"
  done

  installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
  cat > "$root/DEBIAN/control" <<EOF
Package: scispot-mcp
Version: $pkgver
Architecture: amd64
Maintainer: Scispot <support@scispot.com>
Installed-Size: $installed_size
Depends: $depends
Recommends: gnome-keyring
Section: utils
Priority: optional
Homepage: https://www.scispot.com/
Description: AI access to a Scispot lab workspace under the lab's MCP policy
 Scispot MCP Desktop lets AI clients such as Claude Desktop, Claude Code,
 Cursor, VS Code and Windsurf use a Scispot workspace while the workstation
 enforces the lab's MCP policy. It forwards only the tools the policy
 allows, refuses access on unmanaged workstations and records every tool
 call in a tamper-evident audit trail.
 .
 Every control lives in scispot-mcpd, a system service running as root
 (scispot-mcpd.service, enabled and started by this package), out of reach
 of the AI agents, which run as the person. scispot-mcp (the CLI and the
 gateway relay AI clients launch, scispot-mcp serve) and the tray app
 only talk to it over /run/scispot-mcp/mcpd.sock. The user's Scispot token
 stays in the Secret Service keychain, sealed so that only the service can
 use it; the service checks the account password through PAM
 (/etc/pam.d/scispot-mcp) and keeps its state and the audit trail in
 /var/lib/scispot-mcp, which stays when the package is purged.
 .
 The managed policy is read from /etc/scispot-mcp/policy.json (root-owned);
 the package installs none. The tray starts at login through
 /etc/xdg/autostart.
EOF
  printf '%s\n' "${conffiles[@]}" > "$root/DEBIAN/conffiles"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) > "$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
  find "$root" -type d -exec chmod 0755 {} +
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  deb="$out/scispot-mcp_${pkgver}_amd64.deb"
  dpkg-deb --root-owner-group --threads-max=1 -Zxz -z9 --build "$root" "$deb" >/dev/null
fi

# --- Windows ----------------------------------------------------------------
if want windows; then
  winres=$(tool "$GO_WINRES")
  fileversion="$msiver.0"
  # winres_syso DIR NAME DESCRIPTION puts the icon, version resource and
  # manifest for NAME.exe into the package DIR of the source copy.
  winres_syso() {
    local dir=$1 name=$2 desc=$3 res="$work/winres-$2"
    mkdir -p "$res"
    cp "$work"/icons/icon-*.png "$res/"
    sed -e "s/@FILEVERSION@/$fileversion/g" -e "s/@VERSION@/$version/g" \
        -e "s/@NAME@/$name/g" -e "s/@DESCRIPTION@/$desc/g" \
        packaging/windows/winres.json > "$res/winres.json"
    (cd "$res" && "$winres" make --in winres.json --arch amd64 --out "$src/$dir/zz_winres") >&2
  }
  say "windows/amd64 executables"
  winres_syso cmd/scispot-mcp scispot-mcp "Scispot MCP"
  winres_syso cmd/scispot-mcp-tray scispot-mcp-tray "Scispot MCP"
  winres_syso cmd/scispot-mcpd scispot-mcpd "Scispot MCP service"
  mkdir -p "$out/windows-amd64"
  # scispot-mcp.exe is a console program: the CLI must print and return
  # exit codes, and AI clients talk to serve over its stdio. The tray is a
  # GUI-subsystem program (no console window), with cgo for Fyne's driver.
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 gobuild -ldflags "$ldflags" \
    -o "$out/windows-amd64/scispot-mcp.exe" ./cmd/scispot-mcp
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc gobuild \
    -ldflags "$ldflags -H windowsgui -extldflags=-Wl,--no-insert-timestamp" \
    -o "$out/windows-amd64/scispot-mcp-tray.exe" ./cmd/scispot-mcp-tray
  # The service (ScispotMCP, LocalSystem): no cgo (Windows checks passwords
  # with LogonUser), console subsystem, so that it also runs in a console
  # for diagnosis; it notices when the service control manager starts it.
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 gobuild -ldflags "$ldflags" \
    -o "$out/windows-amd64/scispot-mcpd.exe" ./cmd/scispot-mcpd

  say ".msi"
  msi="$work/msi"
  mkdir -p "$msi/bin"
  cp "$out/windows-amd64/"*.exe "$msi/bin/"
  cp "$work/icons/icon.ico" "$msi/ScispotMCP.ico"
  # The ProductCode is derived from the version and commit: the same build
  # gets the same code, every new one its own (a major upgrade).
  productcode=$(cd "$src" && go run ./packaging/pkgtool guid "scispot-mcp msi $pkgver $commit")
  (cd "$msi" && wixl -a x64 -D Version="$msiver" -D ProductCode="$productcode" \
    -D BinDir=bin -D IconFile=ScispotMCP.ico \
    -o "$out/scispot-mcp-$pkgver-x64.msi" "$repo/packaging/windows/scispot-mcp.wxs") 2>&1 |
    { grep -v -e '^$' -e 'GLib-GObject-WARNING' || true; } >&2
  [ -s "$out/scispot-mcp-$pkgver-x64.msi" ] || die "wixl did not write the MSI"
fi

# --- checksums ----------------------------------------------------------------
(cd "$out" && find . -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) > "$work/SHA256SUMS"
install -m 0644 "$work/SHA256SUMS" "$out/SHA256SUMS"
say "done: $out"
(cd "$out" && ls -l -- *.deb *.msi 2>/dev/null) >&2 || true
