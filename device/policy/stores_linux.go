package policy

// DefaultStores returns the policy sources of this system, in order of
// precedence: on Linux, the root-owned LinuxPolicyPath.
func DefaultStores() []Store {
	return []Store{NewFileStore(LinuxPolicyPath)}
}
