package demo

import (
	"fmt"
	"math"
	"time"
)

func (w *workspace) seedStorage(r *rng) {
	loc := func(name, typ string, tempC *float64, desc string, children ...*storageLocation) *storageLocation {
		l := &storageLocation{UUID: r.uuid(), Name: name, Type: typ,
			TemperatureC: tempC, Description: desc, Children: children}
		for _, c := range children {
			c.parent = l
		}
		return l
	}
	rackB := loc("Rack B", "rack", nil, "Protein aliquots and lysate plates.")
	shelf1 := loc("Shelf 1", "shelf", nil, "Frozen cell stock boxes.")
	freezer := loc("Freezer F-01 (-80 °C)", "freezer", ptr(-80.0), "Upright ultra-low freezer, room 2.14.",
		shelf1, loc("Shelf 2", "shelf", nil, "", rackB))
	w.locations = []*storageLocation{
		freezer,
		loc("Freezer F-02 (-20 °C)", "freezer", ptr(-20.0), "Enzymes, antibodies and kit components.",
			loc("Drawer 1", "shelf", nil, "Enzymes"), loc("Drawer 2", "shelf", nil, "Antibodies")),
		loc("Cold Room CR-1 (4 °C)", "room", ptr(4.0), "Walk-in cold room next to the chromatography bay.",
			loc("Shelf A", "shelf", nil, "Media and columns"), loc("Shelf B", "shelf", nil, "Antibiotics and transfection reagents")),
		loc("Cabinet C-3 (flammables)", "cabinet", nil, "Ventilated flammables cabinet; solvents and dry chemicals."),
	}
	// Number the tree top-down, so roots come first: LOC-0001 is F-01.
	seq := 0
	var number func([]*storageLocation)
	number = func(ls []*storageLocation) {
		for _, l := range ls {
			seq++
			l.HRID = fmt.Sprintf("LOC-%04d", seq)
			number(l.Children)
		}
	}
	number(w.locations)

	cellLines := w.sheets[0]
	w.manifests = []*manifest{
		seedPlate(r, rackB, cellLines),
		seedBox(r, shelf1, cellLines),
	}
	w.labflows = seedLabflows(r)
}

// seedPlate builds the 96-well lysate plate PLT-00142: wells A1–F10 hold
// five replicate lysates of each of the twelve HEK293T-GFP clones, column
// 11 BSA standards, column 12 blanks, G1–G6 repeats; the rest is empty.
func seedPlate(r *rng, at *storageLocation, cellLines *labsheet) *manifest {
	m := &manifest{
		UUID: r.uuid(), HRID: "MNF-0012", Barcode: PlateBarcode,
		Name: "Lysate plate — HEK293T-GFP clones", Type: "plate", Format: "96-well, 8 × 12",
		Rows: 8, Cols: 12, Location: at, Owner: "Maya Okafor",
		Created:  time.Date(2025, 3, 27, 14, 5, 0, 0, time.UTC),
		Contents: map[string]*wellContent{},
	}
	bsa := []float64{2, 1, 0.5, 0.25, 0.125, 0.0625}
	for ri := range 6 {
		rowName := string(rune('A' + ri))
		for c := 1; c <= 10; c++ {
			i := ri*10 + c - 1
			clone, rep := i/5+1, i%5+1
			src := fmt.Sprintf("CL-%04d", gfpCloneFirstRow+clone-1)
			m.Contents[fmt.Sprintf("%s%d", rowName, c)] = &wellContent{
				SampleUUID: r.uuid(), Name: fmt.Sprintf("%s lysate, rep %d", cellLines.byID[src].Cells["Name"], rep),
				SampleType: "lysate", VolumeUL: 50,
				Concentration: ptr(math.Round((0.9+1.7*r.float())*100) / 100), Source: src,
			}
		}
		m.Contents[rowName+"11"] = &wellContent{SampleUUID: r.uuid(), Name: fmt.Sprintf("BSA standard %g mg/mL", bsa[ri]),
			SampleType: "standard", VolumeUL: 25, Concentration: ptr(bsa[ri])}
		m.Contents[rowName+"12"] = &wellContent{SampleUUID: r.uuid(), Name: "Blank (RIPA buffer)", SampleType: "blank", VolumeUL: 25}
	}
	for c := 1; c <= 6; c++ {
		src := m.Contents[fmt.Sprintf("A%d", c)]
		m.Contents[fmt.Sprintf("G%d", c)] = &wellContent{SampleUUID: r.uuid(), Name: src.Name + " (repeat)",
			SampleType: "lysate", VolumeUL: 50, Concentration: src.Concentration, Source: src.Source}
	}
	return m
}

// seedBox builds a 9 × 9 box of frozen cell stocks from Frozen rows.
func seedBox(r *rng, at *storageLocation, cellLines *labsheet) *manifest {
	m := &manifest{
		UUID: r.uuid(), HRID: "MNF-0013", Barcode: "BOX-00031",
		Name: "Frozen cell stocks, box 31", Type: "box", Format: "81-slot cryobox, 9 × 9",
		Rows: 9, Cols: 9, Location: at, Owner: "Jonas Lindqvist",
		Created:  time.Date(2024, 11, 4, 10, 20, 0, 0, time.UTC),
		Contents: map[string]*wellContent{},
	}
	slot := 0
	for _, row := range cellLines.Rows {
		if slot == 45 {
			break
		}
		if row.Cells["Status"] != "Frozen" {
			continue
		}
		m.Contents[fmt.Sprintf("%c%d", 'A'+slot/9, slot%9+1)] = &wellContent{
			SampleUUID: r.uuid(), Name: fmt.Sprintf("%s P%v", row.Cells["Name"], row.Cells["Passage"]),
			SampleType: "cryovial", VolumeUL: 1000, Source: row.Cells["ID"].(string),
		}
		slot++
	}
	return m
}

func seedLabflows(r *rng) []*labflow {
	rnaseq := &labflow{UUID: r.uuid(), HRID: "LF-0001", Name: "RNA-seq Sample Intake",
		Description: "From sample receipt to data delivery for RNA-seq projects.",
		Stages:      []string{"Received", "QC", "Library Prep", "Sequencing", "Data Delivered"}}
	for i := 1; i <= 24; i++ {
		stage := rnaseq.Stages[min(4, (i-1)/6+r.intn(2))]
		rnaseq.Samples = append(rnaseq.Samples, labflowSample{UUID: r.uuid(), Name: fmt.Sprintf("RNA-25-%03d", i), Stage: stage})
	}
	qc := &labflow{UUID: r.uuid(), HRID: "LF-0002", Name: "Plasmid Prep QC",
		Description: "Miniprep, quantification and sequence check before a plasmid is released.",
		Stages:      []string{"Miniprep", "NanoDrop", "Sequencing", "Approved"}}
	for i := 1; i <= 12; i++ {
		qc.Samples = append(qc.Samples, labflowSample{UUID: r.uuid(), Name: fmt.Sprintf("PL-%04d miniprep %d", 1+r.intn(9), 1+i%3), Stage: pick(r, qc.Stages)})
	}
	return []*labflow{rnaseq, qc}
}
