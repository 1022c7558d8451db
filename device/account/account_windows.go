package account

import "golang.org/x/sys/windows"

// platformAliases adds the user principal name, which Entra ID / AD
// admins usually write, beside the DOMAIN\user form os/user gives.
func platformAliases() []string {
	var aliases []string
	n := uint32(256)
	buf := make([]uint16, n)
	if err := windows.GetUserNameEx(windows.NameUserPrincipal, &buf[0], &n); err == nil {
		if upn := windows.UTF16ToString(buf[:n]); upn != "" {
			aliases = append(aliases, upn)
		}
	}
	return aliases
}
