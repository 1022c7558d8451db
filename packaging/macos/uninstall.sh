#!/bin/sh
# Removes Scispot MCP from a Mac (run as root, e.g. as an MDM script):
# stops the tray for the console user, removes the LaunchAgent, the app,
# the CLI link and the package receipt. The managed policy profile is
# removed through the MDM; users' audit trails and keychain items stay.
set -u
if [ "$(/usr/bin/id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root (sudo)." >&2
  exit 1
fi
user=$(/usr/bin/stat -f %Su /dev/console 2>/dev/null || true)
case "$user" in
  ""|root|loginwindow|_mbsetupuser) ;;
  *) uid=$(/usr/bin/id -u "$user" 2>/dev/null) && /bin/launchctl bootout "gui/$uid/io.scispot.mcp" >/dev/null 2>&1 ;;
esac
/bin/rm -f /Library/LaunchAgents/io.scispot.mcp.plist
/bin/rm -rf "/Applications/Scispot MCP.app"
if [ -L /usr/local/bin/scispot-mcp ]; then /bin/rm -f /usr/local/bin/scispot-mcp; fi
/usr/sbin/pkgutil --forget io.scispot.mcp.pkg >/dev/null 2>&1 || true
echo "Scispot MCP removed."
