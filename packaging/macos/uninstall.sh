#!/bin/sh
# Removes Scispot MCP from a Mac (run as root, e.g. as an MDM script):
# stops the workstation service (io.scispot.mcpd) and the tray for the
# console user, removes the LaunchDaemon, the LaunchAgent, the app (with the
# service's executable), the CLI link, the service's logs and the package
# receipt. The managed policy profile is removed through the MDM.
#
# Kept: the service's state with the audit trail, in
# /Library/Application Support/Scispot MCP/ (regulated records: delete it
# only as your retention rules allow; the service key in it is what opens
# the tokens in users' keychains), and users' keychain items.
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
# Stopping the service ends every session (each records its session.end).
/bin/launchctl bootout system/io.scispot.mcpd >/dev/null 2>&1 || true
# Take the service's deny entries out of Claude Code's and GitHub Copilot's
# managed settings (policy BlockDirectConnections); the admin's own stay.
"/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcpd" --release-client-settings || true
/bin/rm -f /Library/LaunchDaemons/io.scispot.mcpd.plist
/bin/rm -f /Library/LaunchAgents/io.scispot.mcp.plist
/bin/rm -rf "/Applications/Scispot MCP.app"
if [ -L /usr/local/bin/scispot-mcp ]; then /bin/rm -f /usr/local/bin/scispot-mcp; fi
# The service removes its socket when it stops; one left by a crash goes too.
if [ -S /var/run/scispot-mcp.sock ]; then /bin/rm -f /var/run/scispot-mcp.sock; fi
/bin/rm -rf "/Library/Logs/Scispot MCP"
/usr/sbin/pkgutil --forget io.scispot.mcp.pkg >/dev/null 2>&1 || true
echo "Scispot MCP removed. The audit trail stays in /Library/Application Support/Scispot MCP/."
