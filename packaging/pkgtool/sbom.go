package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// errNotCycloneDX is returned for a file that is not a CycloneDX JSON BOM.
var errNotCycloneDX = errors.New("not a CycloneDX JSON document")

// normaliseSBOM removes what differs between two runs over the same
// commit (the serial number, the timestamp) and re-indents, so the SBOM
// is as reproducible as the packages it describes. cyclonedx-gomod is
// also asked to omit both; this is the guarantee.
func normaliseSBOM(in []byte) ([]byte, error) {
	doc, err := decodeSBOM(in)
	if err != nil {
		return nil, err
	}
	delete(doc, "serialNumber")
	if md, ok := doc["metadata"].(map[string]any); ok {
		delete(md, "timestamp")
	}
	return encodeSBOM(doc)
}

func decodeSBOM(in []byte) (map[string]any, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if doc["bomFormat"] != "CycloneDX" {
		return nil, fmt.Errorf("reading SBOM: %w", errNotCycloneDX)
	}
	return doc, nil
}

func encodeSBOM(doc map[string]any) ([]byte, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil { // map keys come out sorted
		return nil, fmt.Errorf("writing SBOM: %w", err)
	}
	return out.Bytes(), nil
}

// stampSBOMVersion names version as the main component's (the
// application's) version. cyclonedx-gomod finds it only from a v-tag on
// HEAD, so a build between releases would otherwise carry none, and
// validate's IQ-09 checks that the installed SBOM names the version of the
// scispot-mcp it runs: package.sh passes the version it stamps into the
// executables.
func stampSBOMVersion(in []byte, version string) ([]byte, error) {
	doc, err := decodeSBOM(in)
	if err != nil {
		return nil, err
	}
	md, _ := doc["metadata"].(map[string]any)
	comp, _ := md["component"].(map[string]any)
	if comp == nil {
		return nil, errors.New("the SBOM names no main component (metadata.component) to give a version")
	}
	comp["version"] = version
	return encodeSBOM(doc)
}

// normaliseSBOMFile normalises the SBOM at path and, if version is not
// empty, stamps it as the application's version.
func normaliseSBOMFile(path, version string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading SBOM: %w", err)
	}
	out, err := normaliseSBOM(in)
	if err == nil && version != "" {
		out, err = stampSBOMVersion(out, version)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	return nil
}
