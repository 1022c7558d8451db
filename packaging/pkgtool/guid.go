package main

import (
	"crypto/sha1"
	"fmt"
)

// guidNamespace is the RFC 4122 namespace of the GUIDs this tool derives.
// Changing it changes every derived GUID (and so the MSI's ProductCode
// and PackageCode): never change it.
var guidNamespace = [16]byte{0x3c, 0x1f, 0x52, 0x8e, 0x7a, 0x41, 0x4b, 0x0d, 0x9e, 0x2a, 0x51, 0x6c, 0x0b, 0x88, 0xd3, 0x47}

// nameGUID is the RFC 4122 version-5 (name-based) GUID of name, upper
// case as MSI tables write GUIDs. The same name always gives the same
// GUID, so rebuilding a commit gives the same ProductCode, while every new
// version (a new name) gets its own, as a major upgrade needs.
func nameGUID(name string) string {
	h := sha1.New()
	h.Write(guidNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
