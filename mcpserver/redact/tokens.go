package redact

// Tokens returns the token-shaped words in s (see nextToken), in order,
// for callers that must find a Scispot token in text they do not own —
// such as a client config — and move it rather than only hide it.
func Tokens(s string) []string {
	var out []string
	for from := 0; ; {
		start, end, ok := nextToken(s, from)
		if !ok {
			return out
		}
		out = append(out, s[start:end])
		from = end
	}
}
