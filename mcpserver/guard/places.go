package guard

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// rewriter visits every place of a tool result where text can reach a
// model, so that every guard that reads or changes text (secrets, prompt
// injection) covers the same places:
//
//   - text: the text of text content; the text, URI and MIME type of an
//     embedded resource; the URI, name, title, description and MIME type
//     of a resource link; the MIME type of images and audio; the
//     lastModified of any annotations; a tool_use's id and name and a
//     tool_result's toolUseId (content types that belong in sampling, but
//     a server can still send them).
//   - value: structuredContent, every _meta (of the result, of each
//     content item, of an embedded resource), a tool_use's input and a
//     tool_result's structuredContent; nested tool_result content is
//     visited like the result's own.
//
// Binary payloads are not text and are left alone: image and audio data,
// resource blobs, icons (URIs or data URIs for a client to draw).
//
// text returns its argument itself when it changes nothing, and value
// says whether it changed anything: only what changed is copied, content
// items that did not change are res's own, and res is never modified.
type rewriter struct {
	text  func(s string) string
	value func(v any) (out any, changed bool, err error)
}

// edit rewrites the fields of one item and remembers whether any changed.
type edit struct {
	rw      rewriter
	changed bool
	err     error
}

func (e *edit) text(s string) string {
	if s == "" {
		return s
	}
	out := e.rw.text(s)
	if out != s {
		e.changed = true
	}
	return out
}

func (e *edit) value(v any) any {
	if v == nil || e.err != nil {
		return v
	}
	out, changed, err := e.rw.value(v)
	if err != nil {
		e.err = err
		return v
	}
	if changed {
		e.changed = true
		return out
	}
	return v
}

func (e *edit) meta(m mcp.Meta) mcp.Meta {
	if m == nil {
		return nil
	}
	out, _ := e.value(map[string]any(m)).(map[string]any)
	return out
}

func (e *edit) annotations(a *mcp.Annotations) *mcp.Annotations {
	if a == nil || a.LastModified == "" {
		return a
	}
	lm := e.text(a.LastModified)
	if lm == a.LastModified {
		return a
	}
	cp := *a
	cp.LastModified = lm
	return &cp
}

// result rewrites a whole tool result and reports whether anything
// changed. A nil res gives nil; otherwise the result is always a copy, so
// the caller may change its fields.
func (rw rewriter) result(res *mcp.CallToolResult) (*mcp.CallToolResult, bool, error) {
	if res == nil {
		return nil, false, nil
	}
	c := *res
	e := &edit{rw: rw}
	c.Content = e.contents(res.Content)
	c.StructuredContent = e.value(res.StructuredContent)
	c.Meta = e.meta(res.Meta)
	return &c, e.changed, e.err
}

func (e *edit) contents(items []mcp.Content) []mcp.Content {
	if items == nil {
		return nil
	}
	out := make([]mcp.Content, len(items))
	for i, item := range items {
		ie := &edit{rw: e.rw}
		out[i] = ie.content(item)
		if ie.err != nil && e.err == nil {
			e.err = ie.err
		}
		if !ie.changed {
			out[i] = item
		}
		e.changed = e.changed || ie.changed
	}
	return out
}

// content returns a rewritten copy of item (e.changed says whether it
// differs).
func (e *edit) content(item mcp.Content) mcp.Content {
	switch t := item.(type) {
	case *mcp.TextContent:
		if t == nil {
			return item
		}
		cp := *t
		cp.Text = e.text(t.Text)
		cp.Annotations = e.annotations(t.Annotations)
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.ImageContent:
		if t == nil {
			return item
		}
		cp := *t
		cp.MIMEType = e.text(t.MIMEType)
		cp.Annotations = e.annotations(t.Annotations)
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.AudioContent:
		if t == nil {
			return item
		}
		cp := *t
		cp.MIMEType = e.text(t.MIMEType)
		cp.Annotations = e.annotations(t.Annotations)
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.ResourceLink:
		if t == nil {
			return item
		}
		cp := *t
		cp.URI = e.text(t.URI)
		cp.Name = e.text(t.Name)
		cp.Title = e.text(t.Title)
		cp.Description = e.text(t.Description)
		cp.MIMEType = e.text(t.MIMEType)
		cp.Annotations = e.annotations(t.Annotations)
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.EmbeddedResource:
		if t == nil {
			return item
		}
		cp := *t
		if t.Resource != nil {
			rc := *t.Resource
			rc.URI = e.text(rc.URI)
			rc.MIMEType = e.text(rc.MIMEType)
			rc.Text = e.text(rc.Text)
			rc.Meta = e.meta(rc.Meta)
			cp.Resource = &rc
		}
		cp.Annotations = e.annotations(t.Annotations)
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.ToolUseContent:
		if t == nil {
			return item
		}
		cp := *t
		cp.ID = e.text(t.ID)
		cp.Name = e.text(t.Name)
		if t.Input != nil {
			cp.Input, _ = e.value(t.Input).(map[string]any)
		}
		cp.Meta = e.meta(t.Meta)
		return &cp
	case *mcp.ToolResultContent:
		if t == nil {
			return item
		}
		cp := *t
		cp.ToolUseID = e.text(t.ToolUseID)
		cp.Content = e.contents(t.Content)
		cp.StructuredContent = e.value(t.StructuredContent)
		cp.Meta = e.meta(t.Meta)
		return &cp
	}
	// Every content type the SDK decodes is above; anything else was
	// built in process and carries no text of the upstream's.
	return item
}
