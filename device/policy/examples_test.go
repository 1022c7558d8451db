package policy_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
	"howett.net/plist"
)

// packaging is the repository's packaging folder, where the examples that
// admins copy are shipped.
var packagingDir = filepath.Join("..", "..", "packaging")

func readPackaging(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(packagingDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func allKeysSorted() []string {
	keys := policy.Keys()
	slices.Sort(keys)
	return keys
}

func TestLinuxExamplePolicy(t *testing.T) {
	s, err := policy.ParseJSON(readPackaging(t, "linux/policy.example.json"))
	if err != nil {
		t.Fatalf("the shipped example is invalid: %v", err)
	}
	if diff := cmp.Diff(allKeysSorted(), sortedKeys(s)); diff != "" {
		t.Errorf("example keys (-every key +example):\n%s", diff)
	}
	// The example may be installed as the live policy file: it must not
	// loosen anything, and must not claim a management system (ManagedBy
	// is Linux's enrollment signal).
	p := policy.Resolve(s)
	def := policy.Default()
	if p.ManagedBy != "" || p.AllowWriteTools || p.AllowLocalHTTP || !p.RequireEnrollment || !p.ConfirmWrites || !p.RequireReasonForChange {
		t.Errorf("example loosens the defaults: %+v", p)
	}
	if p.MaxCallsPerMinute != def.MaxCallsPerMinute || p.MaxResultBytes != def.MaxResultBytes || p.MaxBytesPerHour != def.MaxBytesPerHour {
		t.Errorf("example limits differ from the defaults: %+v", p)
	}
}

func TestMacExampleProfile(t *testing.T) {
	var profile struct {
		PayloadType    string
		PayloadContent []struct {
			PayloadType    string
			PayloadContent map[string]struct {
				Forced []struct {
					Settings map[string]any `plist:"mcx_preference_settings"`
				}
			}
		}
	}
	format, err := plist.Unmarshal(readPackaging(t, "macos/io.scispot.mcp.mobileconfig"), &profile)
	if err != nil {
		t.Fatalf("parsing the profile: %v", err)
	}
	if format != plist.XMLFormat || profile.PayloadType != "Configuration" {
		t.Fatalf("format %d, PayloadType %q: want an XML Configuration profile", format, profile.PayloadType)
	}
	var found int
	for _, payload := range profile.PayloadContent {
		if payload.PayloadType != "com.apple.ManagedClient.preferences" {
			continue
		}
		domain, ok := payload.PayloadContent[policy.MacDomain]
		if !ok {
			t.Fatalf("payload has domains %v, want %s", sortedKeys(payload.PayloadContent), policy.MacDomain)
		}
		if len(domain.Forced) != 1 {
			t.Fatalf("domain has %d Forced entries, want 1", len(domain.Forced))
		}
		settings := domain.Forced[0].Settings
		if diff := cmp.Diff(allKeysSorted(), sortedKeys(settings)); diff != "" {
			t.Errorf("mcx_preference_settings keys (-every key +profile):\n%s", diff)
		}
		// The forced settings are what DecodePlist will see on a Mac.
		if _, err := policy.FromValues(settings); err != nil {
			t.Errorf("the forced settings are invalid: %v", err)
		}
		found++
	}
	if found != 1 {
		t.Errorf("found %d com.apple.ManagedClient.preferences payloads, want 1", found)
	}
}

// admx is the part of an ADMX file the test checks.
type admx struct {
	Categories []struct {
		Name        string `xml:"name,attr"`
		DisplayName string `xml:"displayName,attr"`
	} `xml:"categories>category"`
	SupportedOn []struct {
		Name        string `xml:"name,attr"`
		DisplayName string `xml:"displayName,attr"`
	} `xml:"supportedOn>definitions>definition"`
	Policies []admxPolicy `xml:"policies>policy"`
}

type admxPolicy struct {
	Name         string `xml:"name,attr"`
	Class        string `xml:"class,attr"`
	DisplayName  string `xml:"displayName,attr"`
	ExplainText  string `xml:"explainText,attr"`
	Presentation string `xml:"presentation,attr"`
	Key          string `xml:"key,attr"`
	ValueName    string `xml:"valueName,attr"`
	Parent       struct {
		Ref string `xml:"ref,attr"`
	} `xml:"parentCategory"`
	SupportedOn struct {
		Ref string `xml:"ref,attr"`
	} `xml:"supportedOn"`
	Enabled *struct {
		Decimal admxDecimal `xml:"decimal"`
	} `xml:"enabledValue"`
	Disabled *struct {
		Decimal admxDecimal `xml:"decimal"`
	} `xml:"disabledValue"`
	Elements struct {
		Items []admxElement `xml:",any"`
	} `xml:"elements"`
}

type admxDecimal struct {
	Value string `xml:"value,attr"`
}

type admxElement struct {
	XMLName   xml.Name
	ID        string `xml:"id,attr"`
	ValueName string `xml:"valueName,attr"`
	Key       string `xml:"key,attr"`
	Items     []struct {
		DisplayName string `xml:"displayName,attr"`
		Value       struct {
			String string `xml:"string"`
		} `xml:"value"`
	} `xml:"item"`
}

type adml struct {
	Strings []struct {
		ID string `xml:"id,attr"`
	} `xml:"resources>stringTable>string"`
	Presentations []struct {
		ID       string `xml:"id,attr"`
		Controls []struct {
			XMLName xml.Name
			RefID   string `xml:"refId,attr"`
		} `xml:",any"`
	} `xml:"resources>presentationTable>presentation"`
}

func TestWindowsTemplates(t *testing.T) {
	var (
		defs admx
		res  adml
	)
	if err := xml.Unmarshal(readPackaging(t, "windows/ScispotMCP.admx"), &defs); err != nil {
		t.Fatalf("parsing the ADMX: %v", err)
	}
	if err := xml.Unmarshal(readPackaging(t, "windows/en-US/ScispotMCP.adml"), &res); err != nil {
		t.Fatalf("parsing the ADML: %v", err)
	}

	strs := map[string]bool{}
	for _, s := range res.Strings {
		if strs[s.ID] {
			t.Errorf("ADML string %q defined twice", s.ID)
		}
		strs[s.ID] = true
	}
	presentations := map[string][]string{} // id -> control refIds
	for _, p := range res.Presentations {
		for _, c := range p.Controls {
			presentations[p.ID] = append(presentations[p.ID], c.RefID)
		}
		if _, ok := presentations[p.ID]; !ok {
			presentations[p.ID] = nil
		}
	}
	refRE := regexp.MustCompile(`^\$\((string|presentation)\.([A-Za-z0-9_]+)\)$`)
	checkRef := func(where, ref, kind string) string {
		t.Helper()
		m := refRE.FindStringSubmatch(ref)
		if m == nil || m[1] != kind {
			t.Errorf("%s: %q is not a $(%s.…) reference", where, ref, kind)
			return ""
		}
		switch kind {
		case "string":
			if !strs[m[2]] {
				t.Errorf("%s: string %q is not in the ADML", where, m[2])
			}
		case "presentation":
			if _, ok := presentations[m[2]]; !ok {
				t.Errorf("%s: presentation %q is not in the ADML", where, m[2])
			}
		}
		return m[2]
	}

	categories := map[string]bool{}
	for _, c := range defs.Categories {
		categories[c.Name] = true
		checkRef("category "+c.Name, c.DisplayName, "string")
	}
	supported := map[string]bool{}
	for _, s := range defs.SupportedOn {
		supported[s.Name] = true
		checkRef("supportedOn "+s.Name, s.DisplayName, "string")
	}

	const policyKey = `Software\Policies\Scispot\MCP`
	covered := map[string]string{} // policy key -> how it is written
	for _, p := range defs.Policies {
		where := "policy " + p.Name
		checkRef(where, p.DisplayName, "string")
		checkRef(where, p.ExplainText, "string")
		if p.Class != "Both" {
			t.Errorf("%s: class %q, want Both (machine and user)", where, p.Class)
		}
		if !strings.EqualFold(p.Key, policyKey) {
			t.Errorf("%s: key %q, want %s", where, p.Key, policyKey)
		}
		if !categories[p.Parent.Ref] {
			t.Errorf("%s: parent category %q is not defined", where, p.Parent.Ref)
		}
		if !supported[p.SupportedOn.Ref] {
			t.Errorf("%s: supportedOn %q is not defined", where, p.SupportedOn.Ref)
		}
		if p.ValueName != "" {
			// A boolean policy: enabled writes 1, disabled 0.
			if p.Enabled == nil || p.Disabled == nil || p.Enabled.Decimal.Value != "1" || p.Disabled.Decimal.Value != "0" {
				t.Errorf("%s: a boolean policy must write DWORD 1 when enabled and 0 when disabled", where)
			}
			covered[p.ValueName] = "boolean"
		}
		var refIDs []string
		if len(p.Elements.Items) > 0 {
			refIDs = presentations[checkRef(where, p.Presentation, "presentation")]
		}
		for _, e := range p.Elements.Items {
			if !slices.Contains(refIDs, e.ID) {
				t.Errorf("%s: element %q has no control in its presentation (refIds %v)", where, e.ID, refIDs)
			}
			switch e.XMLName.Local {
			case "list":
				// The registry store reads a list subkey named after the key.
				name := e.ID
				if !strings.EqualFold(e.Key, policyKey+`\`+name) {
					t.Errorf("%s: list writes %q, want %s\\%s", where, e.Key, policyKey, name)
				}
				covered[name] = "list"
			case "enum":
				for _, it := range e.Items {
					checkRef(where+" item", it.DisplayName, "string")
					if _, err := policy.FromValues(map[string]any{e.ValueName: it.Value.String}); err != nil {
						t.Errorf("%s: enum item writes an invalid value: %v", where, err)
					}
				}
				covered[e.ValueName] = "enum"
			default: // text, decimal
				covered[e.ValueName] = e.XMLName.Local
			}
		}
	}
	for _, k := range policy.Keys() {
		if _, ok := covered[k]; !ok {
			t.Errorf("no ADMX policy writes key %q", k)
		}
	}
	for k := range covered {
		if !slices.Contains(policy.Keys(), k) {
			t.Errorf("ADMX writes %q, which is not a policy key", k)
		}
	}
}
