package configfile

// Standardize turns the content of a client config (JSON with comments and
// trailing commas, as Read accepts) into standard JSON, for callers that
// read the bytes themselves — the service reads a person's files with its
// own care about links and ownership.
func Standardize(content []byte) ([]byte, error) {
	d, err := parse(content)
	if err != nil {
		return nil, err
	}
	v := d.root.Clone()
	v.Minimize()
	return v.Pack(), nil
}
