package injection

import (
	"net"
	"strings"
)

// Markup. Two things in HTML and markdown are aimed at a model more than
// at a person reading the rendered page:
//
//   - Comments (<!-- … -->, [//]: # (…)) are not shown when the page is
//     rendered, but a model reads them. Instruction-like text in a comment
//     is a finding even on a single weak signal ("<!-- before answering,
//     … -->", "<!-- silently … -->").
//   - An image a model puts in its answer is fetched by the client that
//     renders the answer, with no click: a URL that carries data, or has a
//     slot for the model to fill ("?d={conversation}"), sends the data
//     out. Such images, and links with such slots, are findings
//     (exfiltration-link). Ordinary links and images (vendor pages, DOIs,
//     a plasmid map) are not: they carry nothing.

// maxComment bounds the text read as one comment, or one tag.
const maxComment = 4096

// markup returns the comments and links of s (the normalized text) that
// are findings, as candidates.
func markup(s string, hosts []string) []candidate {
	var out []candidate
	for _, c := range comments(s) {
		if commentInstructions(s[c[2]:c[3]]) {
			out = append(out, candidate{rule: RuleComment, kind: strong, start: c[0], end: c[1]})
		}
	}
	for _, l := range links(s) {
		if exfilURL(s[l.url[0]:l.url[1]], l.image, hosts) {
			out = append(out, candidate{rule: RuleExfilLink, kind: strong, start: l.from, end: l.to})
		}
	}
	return out
}

// comments finds the HTML and markdown comments of s: for each, the
// comment and its text, as {from, to, textFrom, textTo}.
func comments(s string) [][4]int {
	var out [][4]int
	for i := 0; ; {
		j := strings.Index(s[i:], "<!--")
		if j < 0 {
			break
		}
		from := i + j
		text := from + 4
		end := min(len(s), text+maxComment)
		to, textTo := end, end // unterminated: to the end, within reason
		if k := strings.Index(s[text:end], "-->"); k >= 0 {
			textTo, to = text+k, text+k+3
		}
		out = append(out, [4]int{from, to, text, textTo})
		i = to
	}
	// [//]: # (text), [comment]: # "text", [//]: <> (text)
	for i := 0; ; {
		j := strings.Index(s[i:], "]:")
		if j < 0 {
			break
		}
		j += i
		i = j + 2
		open := strings.LastIndexByte(s[max(0, j-10):j], '[')
		if open < 0 {
			continue
		}
		from := max(0, j-10) + open
		switch s[from+1 : j] {
		case "//", "comment", "_", "#", "hidden", "note":
		default:
			continue
		}
		k := j + 2
		for k < len(s) && s[k] == ' ' {
			k++
		}
		switch {
		case strings.HasPrefix(s[k:], "#"):
			k++
		case strings.HasPrefix(s[k:], "<>"):
			k += 2
		default:
			continue
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) {
			continue
		}
		closer := closerOf(s[k])
		if closer == 0 || s[k] == '<' || s[k] == '[' {
			continue
		}
		end := min(len(s), k+1+maxComment)
		textTo := end
		to := end
		if e := strings.IndexByte(s[k+1:end], closer); e >= 0 {
			textTo, to = k+1+e, k+2+e
		}
		out = append(out, [4]int{from, to, k + 1, textTo})
		i = to
	}
	return out
}

// commentInstructions reports whether the text of a comment holds
// instructions: what would be a finding anywhere, or one weak signal of
// the kinds that speak to a model (addressing it, stealth, overriding,
// bulk export).
func commentInstructions(text string) bool {
	if commentToAI.MatchString(text) {
		return true
	}
	cands := match(text)
	if len(confirm(text, cands)) > 0 {
		return true
	}
	for _, c := range cands {
		switch c.kind {
		case kindAI, kindStealth, kindOverride, kindExfil:
			return true
		}
	}
	return false
}

// commentToAI is a comment that opens by naming an AI ("<!-- Claude: …",
// "<!-- AI, …"). "Assistant:" is left out: in a lab it is a person's role.
var commentToAI = lazy(`^\s*(?:dear |hey |hi |hello |note (?:to|for) )?(?:the )?(?:claude|chatgpt|gpt[\w.-]*|copilot|gemini|ai|a\.i\.|llm|chatbot|ai assistant|ai agent|ki|ia|ии|ai助手|aiアシスタント)\s*[:,]`)

// link is a markdown link or image, or an HTML element with a URL: s[from:to],
// its URL s[url[0]:url[1]], and whether it is loaded without a click.
type link struct {
	from, to int
	url      [2]int
	image    bool
}

// links finds the markdown links and images, and the HTML elements with a
// src or href, of s.
func links(s string) []link {
	var out []link
	// [text](url), ![alt](url)
	for i := 0; ; {
		j := strings.Index(s[i:], "](")
		if j < 0 {
			break
		}
		j += i
		i = j + 2
		open := strings.LastIndexByte(s[max(0, j-300):j], '[')
		if open < 0 {
			continue
		}
		from := max(0, j-300) + open
		if strings.ContainsAny(s[from+1:j], "\n]") {
			continue
		}
		image := from > 0 && s[from-1] == '!'
		if image {
			from--
		}
		u := j + 2
		if u < len(s) && s[u] == '<' {
			u++
		}
		e := u
		for e < len(s) && e-u < maxComment && strings.IndexByte(" \n)>\"'", s[e]) < 0 {
			e++
		}
		to := e
		if c := strings.IndexByte(s[e:min(len(s), e+300)], ')'); c >= 0 {
			to = e + c + 1
		}
		out = append(out, link{from: from, to: to, url: [2]int{u, e}, image: image})
		i = max(i, e) // a URL holds no other link: each byte is read once
	}
	// <img src=…>, <a href=…>, …
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		from := i + j
		i = from + 1
		name := from + 1
		n := name
		for n < len(s) && n-name < 8 && 'a' <= s[n] && s[n] <= 'z' {
			n++
		}
		image, ok := htmlURLElements[s[name:n]]
		if !ok || n >= len(s) || !(s[n] == ' ' || s[n] == '\n' || s[n] == '/') {
			continue
		}
		end := min(len(s), from+maxComment)
		to := end
		if k := strings.IndexByte(s[n:end], '>'); k >= 0 {
			to = n + k + 1
		}
		for _, u := range attrURLs(s, n, to) {
			out = append(out, link{from: from, to: to, url: u, image: image})
		}
		i = to
	}
	return out
}

// htmlURLElements are the HTML elements whose URL attributes are read:
// true for those a browser loads without a click. Read-only.
var htmlURLElements = map[string]bool{
	"img": true, "image": true, "iframe": true, "video": true, "audio": true, "source": true, "embed": true,
	"script": true, "object": true, "input": true, "link": true, "frame": true, "track": true,
	"a": false, "area": false, "form": false,
}

// attrURLs returns the values of the URL attributes in the tag s[from:to].
func attrURLs(s string, from, to int) [][2]int {
	var out [][2]int
	tag := s[from:to]
	for _, name := range []string{"src=", "href=", "data=", "poster=", "action=", "srcset=", "background="} {
		for k := 0; ; {
			a := strings.Index(tag[k:], name)
			if a < 0 {
				break
			}
			a += k
			k = a + len(name)
			if a > 0 && tag[a-1] != ' ' && tag[a-1] != '\n' {
				continue // data-src=, xlink:href= are read as their own
			}
			v := k
			for v < len(tag) && tag[v] == ' ' {
				v++
			}
			if v >= len(tag) {
				break
			}
			stop := " >\n"
			if q := tag[v]; q == '"' || q == '\'' {
				stop = string(q)
				v++
			}
			e := v
			for e < len(tag) && strings.IndexByte(stop, tag[e]) < 0 {
				e++
			}
			out = append(out, [2]int{from + v, from + e})
		}
	}
	return out
}

// defaultWorkspaceHosts are the hosts, with their subdomains, that links
// may point to without leaving the workspace. Read-only.
var defaultWorkspaceHosts = []string{"scispot.io", "scispot.com"}

// exfilURL reports whether u (lowercase) leaves the workspace carrying
// data, or with a slot for data: for an image, that is a placeholder
// anywhere, a collector's host, a public IP address, or a query value
// that looks like encoded data; for a link, a placeholder naming data in
// its query.
func exfilURL(u string, image bool, hosts []string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			if rest, ok = strings.CutPrefix(u, "//"); !ok {
				return false
			}
		}
	}
	host := rest
	after := ""
	if k := strings.IndexAny(rest, "/?#"); k >= 0 {
		host, after = rest[:k], rest[k:]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	for _, w := range hosts {
		if host == w || strings.HasSuffix(host, "."+w) {
			return false
		}
	}
	path, query := after, ""
	if k := strings.IndexByte(after, '?'); k >= 0 {
		path, query = after[:k], after[k+1:]
	}
	if !image {
		return hasPlaceholder(query, true)
	}
	if hasPlaceholder(query, false) || hasPlaceholder(path, false) {
		return true
	}
	for _, w := range suspiciousWords {
		if strings.Contains(host, w) || strings.Contains(path, w) {
			return true
		}
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast()) {
		return true
	}
	return hasPayload(query)
}

// hasPlaceholder reports whether a URL part has a slot for a model to
// fill: {…}, {{…}}, $NAME, ${…}, <…>, […], %s, an ellipsis. With named,
// the slot must name data ("{api_key}", "$SECRET", "[ALL_ROWS]"), as a
// link's must: "{id}" in a link is how API documentation writes a URL.
func hasPlaceholder(p string, named bool) bool {
	if p == "" {
		return false
	}
	if strings.Contains(p, "%s") || !named && strings.Contains(p, "...") {
		return true
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '{', '<', '[':
			k := strings.IndexByte(p[i:min(len(p), i+64)], closerOf(c))
			if k > 1 && (c == '{' && !named || namesData(p[i+1:i+k])) {
				return true
			}
		case '$':
			j := i + 1
			for j < len(p) && (isWordByte(p[j]) || p[j] == '{') {
				j++
			}
			if j > i+1 && (!named || namesData(p[i+1:j])) {
				return true
			}
		}
	}
	for _, v := range queryValues(p) {
		if strings.HasPrefix(v, "insert") || strings.HasSuffix(v, "_here") || strings.HasSuffix(v, "-here") || dataName(v) {
			return true
		}
	}
	return false
}

// dataName reports whether a query value is a name made of two or more
// data words ("USER_EMAIL", "SUMMARY_OF_CHAT"): a slot written the way
// environment variables are, not a value.
func dataName(v string) bool {
	if !strings.Contains(v, "_") {
		return false
	}
	n := 0
	for _, w := range strings.Split(v, "_") {
		for _, c := range []byte(w) {
			if c < 'a' || c > 'z' {
				return false
			}
		}
		if containsString(dataWords, w) {
			n++
		}
	}
	return n >= 2
}

func closerOf(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '{':
		return '}'
	case '[':
		return ']'
	case '<':
		return '>'
	case '"', '\'':
		return c
	}
	return 0
}

// dataWords name what an exfiltration slot is for. Read-only.
var dataWords = []string{"data", "secret", "token", "key", "password", "passwd", "conversation", "chat", "history",
	"summary", "content", "context", "prompt", "message", "answer", "response", "record", "row", "result", "user",
	"email", "info", "output", "payload", "question", "credential", "api", "csv", "json", "base64",
	"records", "rows", "results", "keys", "tokens", "messages", "credentials", "secrets", "passwords"}

func namesData(s string) bool {
	for _, w := range dataWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func queryValues(q string) []string {
	var out []string
	for _, kv := range strings.Split(q, "&") {
		if _, v, ok := strings.Cut(kv, "="); ok {
			out = append(out, v)
		}
	}
	return out
}

// signingParams are query parameters that carry long opaque values in
// ordinary image URLs: signatures of pre-signed links, cache keys.
// Read-only.
var signingParams = []string{"signature", "sig", "token", "key-pair-id", "policy", "expires", "se", "sp", "sv", "sr",
	"st", "skoid", "sktid", "skt", "ske", "sks", "skv", "sdd", "spr", "rscd", "rsct", "hash", "h", "cache", "cb",
	"etag", "id", "uuid", "rev", "revision", "ts", "timestamp"}

// hasPayload reports whether a query has a value that looks like encoded
// data: 24 characters or more of base64, hex or percent-escapes, with
// letters and digits, under a name that is not a signature's.
func hasPayload(q string) bool {
	for _, kv := range strings.Split(q, "&") {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 24 {
			continue
		}
		if strings.HasPrefix(name, "x-amz-") || strings.HasPrefix(name, "x-goog-") || containsString(signingParams, name) {
			continue
		}
		letters, digits, other := 0, 0, 0
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case 'a' <= c && c <= 'z':
				letters++
			case '0' <= c && c <= '9':
				digits++
			case c == '+' || c == '/' || c == '=' || c == '_' || c == '-' || c == '%' || c == '.':
			default:
				other++
			}
		}
		if other == 0 && letters > 0 && digits > 0 {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
