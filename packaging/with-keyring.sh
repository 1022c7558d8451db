#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring, so the keychain tests talk to a real Secret Service without
# touching the developer's own login keyring.
#   packaging/with-keyring.sh go test ./...
set -euo pipefail
if [ "${SCISPOT_IN_KEYRING_SESSION:-}" = 1 ]; then
  exec "$@"
fi
# The single quotes are meant: the inner script expands in the new session.
# shellcheck disable=SC2016
exec dbus-run-session -- bash -c '
  set -e
  # A keyring of its own, so a login keyring already in $HOME (with another
  # password) can neither block the tests nor be touched by them.
  export XDG_DATA_HOME="$(mktemp -d)"
  trap "rm -rf \"$XDG_DATA_HOME\"" EXIT
  # The daemon wants a non-empty password to create and unlock the keyring.
  eval "$(echo -n scispot-test | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  # The daemon takes its name on the bus a moment after it returns. A
  # Secret Service request before that has D-Bus start a second one, whose
  # output ("GNOME_KEYRING_CONTROL=…") lands on the command'"'"'s stdout.
  for _ in $(seq 200); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
      break
    fi
    sleep 0.05
  done
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK SCISPOT_IN_KEYRING_SESSION=1 SCISPOT_REQUIRE_KEYRING=1
  "$@"
' bash "$@"
