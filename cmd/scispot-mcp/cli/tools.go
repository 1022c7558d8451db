package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

func runTools(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "tools", "tools [--demo] [--all]")
	useDemo := fs.Bool("demo", false, "use the built-in demo workspace")
	all := fs.Bool("all", false, "also list hidden tools and the policy rule that hides each")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	s, err := connectCLI(ctx, env, *useDemo)
	if err != nil {
		return err
	}
	defer s.Close()
	if r := s.Gateway().State().Refusal; r != nil {
		return &refusedError{r: r}
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	if *all {
		infos, err := s.Gateway().Tools(ctx)
		if err != nil {
			return err
		}
		slices.SortStableFunc(infos, func(a, b gateway.ToolInfo) int {
			if a.Visible != b.Visible {
				if a.Visible {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Tool.Name, b.Tool.Name)
		})
		fmt.Fprintln(w, "TOOL\tSTATE\tWHY")
		for _, ti := range infos {
			if ti.Visible {
				fmt.Fprintf(w, "%s\tlisted\t\n", ti.Tool.Name)
			} else {
				fmt.Fprintf(w, "%s\thidden\t%s\n", ti.Tool.Name, ti.Reason)
			}
		}
		return nil
	}
	res, err := s.client.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("listing tools: %w", err)
	}
	for _, t := range res.Tools {
		if t.Name == "scispot_access_status" {
			// The upstream could not be listed; the description says why.
			return fmt.Errorf("%s", t.Description)
		}
	}
	slices.SortFunc(res.Tools, func(a, b *mcp.Tool) int { return strings.Compare(a.Name, b.Name) })
	fmt.Fprintln(w, "TOOL\tKIND\tDESCRIPTION")
	for _, t := range res.Tools {
		kind := "write"
		if t.Annotations != nil && t.Annotations.ReadOnlyHint {
			kind = "read"
		}
		desc, _, _ := strings.Cut(oneLine(t.Description), ". ")
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, kind, desc)
	}
	return nil
}

func runCall(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "call", "call TOOL [JSON-ARGS] [--demo]")
	useDemo := fs.Bool("demo", false, "use the built-in demo workspace")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || len(pos) > 2 {
		return usagef("expected a tool name and at most one JSON object of arguments")
	}
	var callArgs map[string]any
	if len(pos) == 2 {
		if err := json.Unmarshal([]byte(pos[1]), &callArgs); err != nil || callArgs == nil {
			return usagef("the arguments must be one JSON object, such as '{\"labsheet\": \"Cell Lines\"}'")
		}
	}
	s, err := connectCLI(ctx, env, *useDemo)
	if err != nil {
		return err
	}
	defer s.Close()
	if r := s.Gateway().State().Refusal; r != nil {
		// Still made through the gateway, so the refusal is audited.
		s.client.CallTool(ctx, &mcp.CallToolParams{Name: pos[0], Arguments: callArgs})
		return &refusedError{r: r}
	}
	res, err := s.client.CallTool(ctx, &mcp.CallToolParams{Name: pos[0], Arguments: callArgs})
	if err != nil {
		return fmt.Errorf("calling %s: %w", pos[0], err)
	}
	text := renderResult(res)
	if !res.IsError {
		fmt.Fprintln(env.Stdout, text)
		return nil
	}
	if r := s.Gateway().State().Refusal; r != nil {
		return &refusedError{r: r}
	}
	if v := s.Gateway().Visible(pos[0]); !v.Visible {
		return &refusedError{r: &gateway.Refusal{Rule: "tool-hidden", Sentence: text}}
	}
	return fmt.Errorf("%s", text)
}

// renderResult prints every content item the way a person can read it.
func renderResult(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch v := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, v.Text)
		case *mcp.ImageContent:
			parts = append(parts, fmt.Sprintf("[image %s, %d bytes, base64 %s…]", v.MIMEType, len(v.Data), truncate(base64.StdEncoding.EncodeToString(v.Data), 24)))
		default:
			b, _ := json.Marshal(c)
			parts = append(parts, string(b))
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		b, _ := json.MarshalIndent(res.StructuredContent, "", "  ")
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
