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
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if doc["bomFormat"] != "CycloneDX" {
		return nil, fmt.Errorf("reading SBOM: %w", errNotCycloneDX)
	}
	delete(doc, "serialNumber")
	if md, ok := doc["metadata"].(map[string]any); ok {
		delete(md, "timestamp")
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil { // map keys come out sorted
		return nil, fmt.Errorf("writing SBOM: %w", err)
	}
	return out.Bytes(), nil
}

func normaliseSBOMFile(path string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading SBOM: %w", err)
	}
	out, err := normaliseSBOM(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	return nil
}
