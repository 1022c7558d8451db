#!/bin/sh
# Runs a command in a private mount namespace in which the system folders
# the tests write are empty tmpfs: the service's policy and socket folders
# and the AI clients' managed-settings folders (BlockDirectConnections).
# The machine's own files there are neither read nor changed, and nothing
# the tests write outlives them. Without root or unshare (a developer's
# plain `go test`), the command runs as it is: the tests that need these
# folders skip or save and restore what they touch.
#   packaging/private-system-dirs.sh go test ./...
set -u
dirs="/etc/scispot-mcp /run/scispot-mcp /etc/claude-code /etc/github-copilot"
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 || ! unshare -m true 2>/dev/null; then
	exec "$@"
fi
made=""
for d in $dirs; do
	if [ ! -d "$d" ]; then
		mkdir -p "$d" && made="$made $d"
	fi
done
# shellcheck disable=SC2016 # $d and $@ are the inner shell's
unshare -m --propagation private sh -c '
	for d in '"$dirs"'; do
		mount -t tmpfs -o mode=0755 tmpfs "$d" || { echo "private-system-dirs: cannot mount a tmpfs on $d" >&2; exit 1; }
	done
	exec "$@"' sh "$@"
rc=$?
# The mount points made here go again (rmdir leaves a folder that is not
# empty, which would mean something else wrote there meanwhile).
for d in $made; do
	rmdir "$d" 2>/dev/null
done
exit $rc
