package session

import (
	"encoding/json"
	"testing"
)

func TestDescribeWrite(t *testing.T) {
	for _, tc := range []struct {
		args, target, change string
	}{
		{`{"labsheet":"Cell Lines","updates":[{"row_uuid":"CL-0001","values":{"Status":"Frozen"}}]}`,
			`labsheet "Cell Lines", row CL-0001`, `Change — updates: 1 item(s) ({"row_uuid":"CL-0001","values":{"Status":"Frozen"}}).`},
		{`{"labsheet":"Plasmids","rows":[{"uuid":"a"},{"uuid":"b"},{"uuid":"c"},{"uuid":"d"},{"uuid":"e"},{"uuid":"f"}]}`,
			`labsheet "Plasmids", row a, b, c, d, e, …`, `Change — rows: 6 item(s) ({"uuid":"a"}, {"uuid":"b"}, {"uuid":"c"}, …).`},
		{`{"hrid":"EXP-0002","html":"<p>x</p>","position":"append"}`, `hrid "EXP-0002"`, `Change — html: "<p>x</p>"; position: "append".`},
		{`{}`, "(no arguments)", ""},
		{`not json`, "(no arguments)", ""},
		{`{"note":"x"}`, "the workspace", `Change — note: "x".`},
	} {
		target, change := describeWrite(json.RawMessage(tc.args))
		if target != tc.target || change != tc.change {
			t.Errorf("describeWrite(%s) =\n  %q, %q\nwant\n  %q, %q", tc.args, target, change, tc.target, tc.change)
		}
	}
}
