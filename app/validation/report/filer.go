package report

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// Filer is what the workstation service runs when an account files a
// report (service.Config.FileReport): it holds the report against the
// service's own observations (validation.Corroborate, with the IQ cases
// the service reruns against sumsFile under sumsRoot), renders every file
// itself and returns them with the validation.run record's content. So
// the digests in the trail are of files the service made from a report
// it checked, not of whatever the account's program wrote.
func Filer(sumsFile, sumsRoot string) service.ReportFiler {
	// The requirements are built in: read them once, not per filing.
	reqs, reqsErr := validation.Requirements()
	return func(ctx context.Context, report []byte, seen service.ReportFacts) (localapi.FiledValidation, json.RawMessage, error) {
		if reqsErr != nil {
			return localapi.FiledValidation{}, nil, reqsErr
		}
		rep, err := validation.Parse(report)
		if err != nil {
			return localapi.FiledValidation{}, nil, err
		}
		st := seen.Status
		k := validation.Corroboration{
			Account: st.User.Name, Device: st.Device, ServiceVersion: st.Service.Version, Hostname: seen.Hostname,
			Now: seen.Now, Records: seen.Trail, TrailVerifies: seen.TrailVerifies,
			IQ:        validation.Recheck(ctx, st, sumsFile, sumsRoot, seen.Now),
			Catalogue: validation.Catalogue(),
		}
		if err := validation.Corroborate(rep, k); err != nil {
			return localapi.FiledValidation{}, nil, err
		}
		filed := localapi.FiledValidation{DocID: rep.DocID}
		var digests []validation.FileDigest
		for _, r := range Renderings(reqs) {
			b, err := r.Render(rep)
			if err != nil {
				return localapi.FiledValidation{}, nil, fmt.Errorf("rendering the %s report: %w", r.File, err)
			}
			name := rep.DocID + r.File
			filed.Files = append(filed.Files, localapi.ReportFile{Name: name, Content: b})
			digests = append(digests, validation.Digest(name, b))
		}
		args, err := json.Marshal(validation.RunRecord{DocID: rep.DocID, Files: digests, Summary: rep.Summary})
		return filed, args, err
	}
}
