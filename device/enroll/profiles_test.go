package enroll

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseProfilesStatus(t *testing.T) {
	tests := []struct {
		file    string
		want    profilesStatus
		wantErr bool
	}{
		{file: "user-approved.txt", want: profilesStatus{mdm: mdmUserApproved, server: "https://mdm.example.org/mdm/server"}},
		{file: "dep.txt", want: profilesStatus{dep: true, mdm: mdmUserApproved, server: "https://lab-jamf.example.edu:8443/mdm/ServerURL"}},
		{file: "dep-plain-yes.txt", want: profilesStatus{dep: true, mdm: mdmLimited, server: "https://kandji.example.com/mdm"}},
		{file: "limited.txt", want: profilesStatus{mdm: mdmLimited, server: "https://mdm.example.org/mdm/server"}},
		{file: "not-enrolled.txt", want: profilesStatus{mdm: mdmNone}},
		{file: "crlf.txt", want: profilesStatus{mdm: mdmUserApproved, server: "https://mdm.example.org/mdm/server"}},
		{file: "spacing.txt", want: profilesStatus{mdm: mdmUserApproved}},
		{file: "extra-line.txt", want: profilesStatus{mdm: mdmUserApproved, server: "https://mdm.example.org/mdm/server"}},
		{file: "server-with-userinfo.txt", want: profilesStatus{mdm: mdmUserApproved, server: "https://mdm.example.org/mdm"}},
		{file: "dep-without-mdm.txt", wantErr: true},
		{file: "german.txt", wantErr: true},
		{file: "german-values.txt", wantErr: true},
		{file: "french.txt", wantErr: true},
		{file: "empty.txt", wantErr: true},
		{file: "blank-lines.txt", wantErr: true},
		{file: "usage.txt", wantErr: true},
		{file: "duplicate.txt", wantErr: true},
		{file: "unknown-value.txt", wantErr: true},
		{file: "missing-dep.txt", wantErr: true},
		{file: "missing-mdm.txt", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseProfilesStatus(readFixture(t, "profiles/"+tt.file))
			if tt.wantErr {
				if !errors.Is(err, ErrUnrecognized) {
					t.Fatalf("err = %v, want one wrapping ErrUnrecognized", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(profilesStatus{})); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProfilesStatusRejectsOversizeAndBinary(t *testing.T) {
	big := strings.Repeat("x", maxOutputBytes) + "\nEnrolled via DEP: No\nMDM enrollment: No\n"
	for name, in := range map[string][]byte{
		"oversize": []byte(big),
		"not utf8": []byte("Enrolled via DEP: No\nMDM enrollment: \xff\xfe\n"),
	} {
		if _, err := parseProfilesStatus(in); !errors.Is(err, ErrUnrecognized) {
			t.Errorf("%s: err = %v, want ErrUnrecognized", name, err)
		}
	}
}

// TestProfilesFinding pins down which states pass: DEP and user-approved
// do, limited and none do not.
func TestProfilesFinding(t *testing.T) {
	tests := []struct {
		file        string
		wantManaged bool
		wantMethod  string
		wantDetail  string // a part of Detail
	}{
		{"user-approved.txt", true, MethodMacOSUserApproved, "MDM enrollment: Yes (User Approved); server https://mdm.example.org/mdm/server"},
		{"dep.txt", true, MethodMacOSDEP, "enrolled via DEP"},
		{"dep-plain-yes.txt", true, MethodMacOSDEP, "server https://kandji.example.com/mdm"},
		{"limited.txt", false, "", "limited (not user approved)"},
		{"not-enrolled.txt", false, "", "not enrolled in MDM"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			st, err := parseProfilesStatus(readFixture(t, "profiles/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f := st.finding()
			if f.managed != tt.wantManaged || f.method != tt.wantMethod || !strings.Contains(f.detail, tt.wantDetail) {
				t.Errorf("finding = %+v, want managed %t, method %q, detail containing %q",
					f, tt.wantManaged, tt.wantMethod, tt.wantDetail)
			}
		})
	}
}

func TestProfilesProbe(t *testing.T) {
	tests := []struct {
		name        string
		out         CommandOutput
		runErr      error
		wantManaged bool
		wantErr     bool
	}{
		{name: "enrolled", out: CommandOutput{Stdout: readFixture(t, "profiles/user-approved.txt")}, wantManaged: true},
		{name: "not enrolled", out: CommandOutput{Stdout: readFixture(t, "profiles/not-enrolled.txt")}},
		{name: "localised", out: CommandOutput{Stdout: readFixture(t, "profiles/german.txt")}, wantErr: true},
		{name: "non-zero exit", out: CommandOutput{Stdout: readFixture(t, "profiles/user-approved.txt"), Stderr: []byte("profiles: error\n"), ExitCode: 1}, wantErr: true},
		{name: "missing tool", runErr: os.ErrNotExist, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath string
			var gotArgs []string
			p := profilesProbe(func(ctx context.Context, path string, args ...string) (CommandOutput, error) {
				gotPath, gotArgs = path, args
				return tt.out, tt.runErr
			})
			f, err := p.run(context.Background())
			if gotPath != "/usr/bin/profiles" || strings.Join(gotArgs, " ") != "status -type enrollment" {
				t.Errorf("ran %s %v, want /usr/bin/profiles status -type enrollment", gotPath, gotArgs)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t", err, tt.wantErr)
			}
			if f.managed != tt.wantManaged {
				t.Errorf("managed = %t, want %t", f.managed, tt.wantManaged)
			}
		})
	}
}

func FuzzParseProfilesStatus(f *testing.F) {
	for _, name := range []string{"user-approved.txt", "dep.txt", "limited.txt", "not-enrolled.txt", "german.txt", "crlf.txt", "duplicate.txt"} {
		f.Add(readFixture(f, "profiles/"+name))
	}
	f.Add([]byte("MDM enrollment:\nEnrolled via DEP:"))
	f.Fuzz(func(t *testing.T, out []byte) {
		st, err := parseProfilesStatus(out)
		if err != nil {
			if !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("error %v does not wrap ErrUnrecognized", err)
			}
			return
		}
		if st.dep && st.mdm == mdmNone {
			t.Fatal("accepted DEP enrollment without MDM enrollment")
		}
		fd := st.finding()
		if fd.managed != (fd.method != "") {
			t.Fatalf("managed %t with method %q", fd.managed, fd.method)
		}
		if fd.managed && !st.dep && st.mdm != mdmUserApproved {
			t.Fatalf("passed a %v enrollment", st.mdm)
		}
		if strings.ContainsAny(st.server, "\n\r") {
			t.Fatalf("server %q holds a line break", st.server)
		}
	})
}
