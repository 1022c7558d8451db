package policy

// WithTrustTop makes s check the folders above its file only from dir
// down, so tests can use real files in a temporary folder (the folders
// above it, such as /tmp, are not root's alone).
func WithTrustTop(s *FileStore, dir string) *FileStore {
	s.trustTop = dir
	return s
}
