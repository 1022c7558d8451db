package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	_ "image/jpeg" // image.DecodeConfig must know JPEG for write_to_protocol images
	_ "image/png"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type locationArgs struct {
	Location string `json:"location" jsonschema:"A Labspace name (e.g. Genomics, which includes its folders) or a folder written Labspace:Folder (e.g. Genomics:SOPs)."`
}

type hridArgs struct {
	HRID string `json:"hrid" jsonschema:"Human-readable id (e.g. EXP-0012, PRT-0003, DOC-0007) or UUID."`
}

type stubArgs struct {
	Name        string `json:"name" jsonschema:"Title of the new page."`
	Location    string `json:"location" jsonschema:"Where to create it: a Labspace name or Labspace:Folder."`
	Description string `json:"description,omitempty" jsonschema:"Optional first paragraph of content."`
}

type writeHTMLArgs struct {
	HRID     string `json:"hrid" jsonschema:"hrid or UUID of the page to write to."`
	HTML     string `json:"html" jsonschema:"HTML content to add, e.g. <h2>Results</h2><p>…</p>."`
	Position string `json:"position,omitempty" jsonschema:"append (default) adds after the current content, prepend before it."`
}

type elementArg struct {
	Type  string     `json:"type" jsonschema:"heading, paragraph, step, note, checklist or table."`
	Text  string     `json:"text,omitempty" jsonschema:"Text of a heading, paragraph, step or note."`
	Items []string   `json:"items,omitempty" jsonschema:"Checklist items."`
	Rows  [][]string `json:"rows,omitempty" jsonschema:"Table rows; the first row is the header."`
}

type imageArg struct {
	DataBase64 string `json:"data_base64" jsonschema:"The image file, base64-encoded (PNG or JPEG, at most 2 MiB)."`
	FileName   string `json:"file_name,omitempty" jsonschema:"File name to show, e.g. gel_2025-06-02.png."`
	Caption    string `json:"caption,omitempty" jsonschema:"Caption shown under the image."`
}

type writeProtocolArgs struct {
	HRID     string       `json:"hrid" jsonschema:"hrid or UUID of the protocol, e.g. PRT-0003."`
	Position string       `json:"position,omitempty" jsonschema:"append (default) or prepend."`
	Text     string       `json:"text,omitempty" jsonschema:"Plain text to add as a paragraph."`
	Elements []elementArg `json:"elements,omitempty" jsonschema:"Structured protocol elements to add, in order."`
	Image    *imageArg    `json:"image,omitempty" jsonschema:"An image to add."`
}

type linkArgs struct {
	HRID     string `json:"hrid" jsonschema:"hrid or UUID of the page."`
	Labsheet string `json:"labsheet" jsonschema:"Labsheet name or UUID to link."`
}

var elementTypes = []string{"heading", "paragraph", "step", "note", "checklist", "table"}

func (w *workspace) registerELNTools(s *mcp.Server) {
	req := func(names ...string) func(map[string]*jsonschema.Schema) {
		return func(p map[string]*jsonschema.Schema) {
			for _, n := range names {
				p[n].MinLength = minLen(1)
			}
		}
	}
	withPosition := func(names ...string) func(map[string]*jsonschema.Schema) {
		return func(p map[string]*jsonschema.Schema) {
			req(names...)(p)
			p["position"].Enum = enum("append", "prepend")
		}
	}

	addTool(s, toolDef{name: "list_labspaces", title: "List Labspaces",
		description: "List all ELN Labspaces with their folders and page counts."},
		schemaFor[noArgs](nil), w.listLabspaces)

	for _, k := range []pageKind{experimentPage, protocolPage, documentationPage} {
		addTool(s, toolDef{name: "list_" + k.word() + "s", title: "List " + k.title() + "s",
			description: fmt.Sprintf("List the %ss in a location (a Labspace, including its folders, or Labspace:Folder): hrid, UUID, name, status, author and dates.", k.noun())},
			schemaFor[locationArgs](req("location")), w.listPages(k))
		addTool(s, toolDef{name: "get_" + k.word(), title: "Get " + k.title(),
			description: fmt.Sprintf("Get %s's full content by hrid or UUID, with its linked Labsheets.", k.aNoun())},
			schemaFor[hridArgs](req("hrid")), w.getPage(k))
		addTool(s, toolDef{name: "create_" + k.word() + "_stub", title: "Create " + k.title() + " Stub",
			description: fmt.Sprintf("Create an empty %s (status Draft) in a Labspace or Labspace:Folder. Returns its new hrid and UUID.", k.noun())},
			schemaFor[stubArgs](req("name", "location")), w.createStub(k))
		addTool(s, toolDef{name: "link_labsheet_to_" + k.word(), title: "Link Labsheet to " + k.title(), idempotent: true,
			description: fmt.Sprintf("Link a Labsheet to %s so it shows as related data. Linking twice changes nothing.", k.aNoun())},
			schemaFor[linkArgs](req("hrid", "labsheet")), w.linkLabsheet(k))
	}

	addTool(s, toolDef{name: "write_to_experiment", title: "Write to Experiment",
		description: "Add HTML content to an experiment, after (append) or before (prepend) what is there."},
		schemaFor[writeHTMLArgs](withPosition("hrid", "html")), w.writeHTML(experimentPage))
	addTool(s, toolDef{name: "write_to_documentation", title: "Write to Documentation",
		description: "Add HTML content to a documentation page, after (append) or before (prepend) what is there."},
		schemaFor[writeHTMLArgs](withPosition("hrid", "html")), w.writeHTML(documentationPage))
	addTool(s, toolDef{name: "write_to_protocol", title: "Write to Protocol",
		description: "Add content to a protocol: plain text, structured elements (heading, paragraph, step, note, checklist, table) and/or an image. " +
			"At least one of text, elements or image is required."},
		schemaFor[writeProtocolArgs](func(p map[string]*jsonschema.Schema) {
			withPosition("hrid")(p)
			p["elements"].MaxItems = minLen(100)
			p["elements"].Items.Properties["type"].Enum = enum(elementTypes...)
			p["image"].Properties["data_base64"].MinLength = minLen(1)
		}), w.writeProtocol)
}

type labspaceView struct {
	UUID               string   `json:"uuid"`
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	Folders            []string `json:"folders"`
	Experiments        int      `json:"experiment_count"`
	Protocols          int      `json:"protocol_count"`
	DocumentationPages int      `json:"documentation_count"`
}

func (w *workspace) listLabspaces(_ context.Context, _ noArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := struct {
		Labspaces []labspaceView `json:"labspaces"`
	}{}
	for _, ls := range w.labspaces {
		loc := location{Labspace: ls.Name}
		out.Labspaces = append(out.Labspaces, labspaceView{
			UUID: ls.UUID, Name: ls.Name, Description: ls.Description, Folders: ls.Folders,
			Experiments:        len(w.pagesLocked(experimentPage, loc)),
			Protocols:          len(w.pagesLocked(protocolPage, loc)),
			DocumentationPages: len(w.pagesLocked(documentationPage, loc)),
		})
	}
	return jsonResult(out)
}

type pageSummary struct {
	HRID      string `json:"hrid"`
	UUID      string `json:"uuid"`
	Name      string `json:"name"`
	Location  string `json:"location"`
	Status    string `json:"status"`
	Author    string `json:"author"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func summarize(p *page) pageSummary {
	return pageSummary{HRID: p.HRID, UUID: p.UUID, Name: p.Name, Location: p.location(), Status: p.Status,
		Author: p.Author, CreatedAt: stamp(p.Created), UpdatedAt: stamp(p.Updated)}
}

func (w *workspace) listPages(k pageKind) func(context.Context, locationArgs) (*mcp.CallToolResult, error) {
	return func(_ context.Context, in locationArgs) (*mcp.CallToolResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		loc, err := w.locationLocked(in.Location)
		if err != nil {
			return nil, err
		}
		out := struct {
			Location string        `json:"location"`
			Kind     string        `json:"kind"`
			Total    int           `json:"total"`
			Items    []pageSummary `json:"items"`
		}{Location: loc.String(), Kind: k.noun(), Items: []pageSummary{}}
		for _, p := range w.pagesLocked(k, loc) {
			out.Items = append(out.Items, summarize(p))
		}
		out.Total = len(out.Items)
		return jsonResult(out)
	}
}

type linkedView struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

func (w *workspace) getPage(k pageKind) func(context.Context, hridArgs) (*mcp.CallToolResult, error) {
	return func(_ context.Context, in hridArgs) (*mcp.CallToolResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		p, err := w.pageLocked(k, in.HRID)
		if err != nil {
			return nil, err
		}
		out := struct {
			pageSummary
			Content  string       `json:"content"`
			Elements []element    `json:"elements,omitempty"`
			Linked   []linkedView `json:"linked_labsheets"`
		}{pageSummary: summarize(p), Content: p.HTML, Elements: p.Elements, Linked: []linkedView{}}
		if k == protocolPage {
			out.Content = renderElements(p.Elements)
		}
		for _, name := range p.Linked {
			if s, err := w.sheetLocked(name); err == nil {
				out.Linked = append(out.Linked, linkedView{Name: s.Name, UUID: s.UUID})
			}
		}
		return jsonResult(out)
	}
}

// renderElements turns protocol elements into the HTML Scispot shows.
func renderElements(els []element) string {
	var b strings.Builder
	inSteps := false
	for _, e := range els {
		if e.Type == "step" && !inSteps {
			b.WriteString("<ol>")
			inSteps = true
		} else if e.Type != "step" && inSteps {
			b.WriteString("</ol>\n")
			inSteps = false
		}
		t := html.EscapeString(e.Text)
		switch e.Type {
		case "heading":
			fmt.Fprintf(&b, "<h2>%s</h2>\n", t)
		case "paragraph":
			fmt.Fprintf(&b, "<p>%s</p>\n", t)
		case "step":
			fmt.Fprintf(&b, "<li>%s</li>", t)
		case "note":
			fmt.Fprintf(&b, "<blockquote>Note: %s</blockquote>\n", t)
		case "checklist":
			b.WriteString("<ul class=\"checklist\">")
			for _, it := range e.Items {
				fmt.Fprintf(&b, "<li><input type=\"checkbox\"> %s</li>", html.EscapeString(it))
			}
			b.WriteString("</ul>\n")
		case "table":
			b.WriteString("<table>")
			for i, r := range e.Rows {
				cell := "td"
				if i == 0 {
					cell = "th"
				}
				b.WriteString("<tr>")
				for _, c := range r {
					fmt.Fprintf(&b, "<%s>%s</%s>", cell, html.EscapeString(c), cell)
				}
				b.WriteString("</tr>")
			}
			b.WriteString("</table>\n")
		case "image":
			fmt.Fprintf(&b, "<figure><img alt=\"%s\" data-file=\"%s\"><figcaption>%s</figcaption></figure>\n",
				html.EscapeString(e.FileName), html.EscapeString(e.FileName), html.EscapeString(e.Caption))
		}
	}
	if inSteps {
		b.WriteString("</ol>\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (w *workspace) createStub(k pageKind) func(context.Context, stubArgs) (*mcp.CallToolResult, error) {
	return func(_ context.Context, in stubArgs) (*mcp.CallToolResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		name := strings.TrimSpace(in.Name)
		if name == "" || len(name) > 200 {
			return nil, fmt.Errorf("%w: name must be 1 to 200 characters", errInvalid)
		}
		loc, err := w.locationLocked(in.Location)
		if err != nil {
			return nil, err
		}
		if desc := strings.TrimSpace(in.Description); len(desc) > maxHTMLBytes {
			return nil, fmt.Errorf("%w: description is longer than %d bytes", errInvalid, maxHTMLBytes)
		}
		p := w.newPageLocked(k, name, loc, "Demo User", w.nowUTC())
		if desc := strings.TrimSpace(in.Description); desc != "" {
			if k == protocolPage {
				p.Elements = []element{para(desc)}
			} else {
				p.HTML = "<p>" + html.EscapeString(desc) + "</p>"
			}
		}
		return jsonResult(struct {
			Created string `json:"created"`
			pageSummary
		}{k.noun(), summarize(p)})
	}
}

type writeResult struct {
	HRID         string `json:"hrid"`
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	Position     string `json:"position"`
	BytesWritten int    `json:"bytes_written"`
	ContentBytes int    `json:"content_bytes"`
	UpdatedAt    string `json:"updated_at"`
}

func position(p string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "", "append":
		return "append", nil
	case "prepend":
		return "prepend", nil
	}
	return "", fmt.Errorf("%w: position is append or prepend, not %q", errInvalid, p)
}

func (w *workspace) writeHTML(k pageKind) func(context.Context, writeHTMLArgs) (*mcp.CallToolResult, error) {
	return func(_ context.Context, in writeHTMLArgs) (*mcp.CallToolResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		p, err := w.pageLocked(k, in.HRID)
		if err != nil {
			return nil, err
		}
		pos, err := position(in.Position)
		if err != nil {
			return nil, err
		}
		content := strings.TrimSpace(in.HTML)
		if content == "" {
			return nil, fmt.Errorf("%w: html is empty", errInvalid)
		}
		if len(p.HTML)+len(content) > maxHTMLBytes {
			return nil, fmt.Errorf("%w: the %s would exceed %d bytes of content", errInvalid, k.noun(), maxHTMLBytes)
		}
		switch {
		case p.HTML == "":
			p.HTML = content
		case pos == "append":
			p.HTML = p.HTML + "\n" + content
		default:
			p.HTML = content + "\n" + p.HTML
		}
		p.Updated = w.nowUTC()
		return jsonResult(writeResult{HRID: p.HRID, UUID: p.UUID, Name: p.Name, Position: pos,
			BytesWritten: len(content), ContentBytes: len(p.HTML), UpdatedAt: stamp(p.Updated)})
	}
}

func (w *workspace) writeProtocol(_ context.Context, in writeProtocolArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := w.pageLocked(protocolPage, in.HRID)
	if err != nil {
		return nil, err
	}
	pos, err := position(in.Position)
	if err != nil {
		return nil, err
	}
	var add []element
	if t := strings.TrimSpace(in.Text); t != "" {
		add = append(add, para(t))
	}
	for i, e := range in.Elements {
		el, err := checkElement(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i+1, err)
		}
		add = append(add, el)
	}
	if in.Image != nil {
		el, err := checkImage(*in.Image)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		add = append(add, el)
	}
	if len(add) == 0 {
		return nil, fmt.Errorf("%w: give text, elements or an image to write", errInvalid)
	}
	written := len(renderElements(add))
	if len(renderElements(p.Elements))+written > maxHTMLBytes {
		return nil, fmt.Errorf("%w: the protocol would exceed %d bytes of content", errInvalid, maxHTMLBytes)
	}
	if pos == "append" {
		p.Elements = append(slices.Clip(p.Elements), add...)
	} else {
		p.Elements = append(add, p.Elements...)
	}
	p.Updated = w.nowUTC()
	return jsonResult(struct {
		writeResult
		ElementsAdded int `json:"elements_added"`
		ElementsTotal int `json:"elements_total"`
	}{writeResult{HRID: p.HRID, UUID: p.UUID, Name: p.Name, Position: pos, BytesWritten: written,
		ContentBytes: len(renderElements(p.Elements)), UpdatedAt: stamp(p.Updated)}, len(add), len(p.Elements)})
}

func checkElement(e elementArg) (element, error) {
	typ := strings.ToLower(strings.TrimSpace(e.Type))
	switch typ {
	case "heading", "paragraph", "step", "note":
		if strings.TrimSpace(e.Text) == "" {
			return element{}, fmt.Errorf("%w: a %s needs text", errInvalid, typ)
		}
		return element{Type: typ, Text: strings.TrimSpace(e.Text)}, nil
	case "checklist":
		if len(e.Items) == 0 {
			return element{}, fmt.Errorf("%w: a checklist needs items", errInvalid)
		}
		return element{Type: typ, Items: slices.Clone(e.Items)}, nil
	case "table":
		if len(e.Rows) == 0 {
			return element{}, fmt.Errorf("%w: a table needs rows", errInvalid)
		}
		rows := make([][]string, len(e.Rows))
		for i, r := range e.Rows {
			rows[i] = slices.Clone(r)
		}
		return element{Type: typ, Rows: rows}, nil
	}
	return element{}, fmt.Errorf("%w: element type is one of %s, not %q", errInvalid, strings.Join(elementTypes, ", "), e.Type)
}

func checkImage(a imageArg) (element, error) {
	if base64.StdEncoding.DecodedLen(len(a.DataBase64)) > maxImageBytes+3 {
		return element{}, fmt.Errorf("%w: the image is larger than %d bytes", errInvalid, maxImageBytes)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.DataBase64))
	if err != nil {
		return element{}, fmt.Errorf("%w: data_base64 is not valid base64: %v", errInvalid, err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return element{}, fmt.Errorf("%w: data_base64 is not a PNG or JPEG image", errInvalid)
	}
	name := strings.TrimSpace(a.FileName)
	if name == "" {
		name = "image." + map[string]string{"png": "png", "jpeg": "jpg"}[format]
	}
	caption := strings.TrimSpace(a.Caption)
	if caption == "" {
		caption = fmt.Sprintf("%d × %d %s", cfg.Width, cfg.Height, strings.ToUpper(format))
	}
	return element{Type: "image", FileName: name, MIMEType: "image/" + format, Bytes: len(data), Caption: caption}, nil
}

func (w *workspace) linkLabsheet(k pageKind) func(context.Context, linkArgs) (*mcp.CallToolResult, error) {
	return func(_ context.Context, in linkArgs) (*mcp.CallToolResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		p, err := w.pageLocked(k, in.HRID)
		if err != nil {
			return nil, err
		}
		s, err := w.sheetLocked(in.Labsheet)
		if err != nil {
			return nil, err
		}
		already := slices.Contains(p.Linked, s.Name)
		if !already {
			p.Linked = append(slices.Clip(p.Linked), s.Name)
			p.Updated = w.nowUTC()
		}
		return jsonResult(struct {
			HRID          string `json:"hrid"`
			UUID          string `json:"uuid"`
			Labsheet      string `json:"labsheet"`
			LabsheetUUID  string `json:"labsheet_uuid"`
			Linked        bool   `json:"linked"`
			AlreadyLinked bool   `json:"already_linked"`
		}{p.HRID, p.UUID, s.Name, s.UUID, true, already})
	}
}
