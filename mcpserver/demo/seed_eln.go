package demo

import (
	"fmt"
	"strings"
	"time"
)

// The ELN sample content. Like the labsheet notes it is ordinary lab
// writing: nothing in it addresses an AI, so the injection detector has
// nothing to find here.

type pageSeed struct {
	kind     pageKind
	name     string
	location string // "Labspace" or "Labspace:Folder"
	status   string
	author   string
	daysAgo  int
	html     string    // experiments and documentation
	elements []element // protocols
	linked   []string
}

func (w *workspace) seedELN(r *rng) {
	w.labspaces = []*labspace{
		{UUID: r.uuid(), Name: "Protein Lab", Description: "Expression, purification and biophysical assays.", Folders: []string{"Purification", "Assays"}},
		{UUID: r.uuid(), Name: "Genomics", Description: "Nucleic acid prep, sequencing and genome editing.", Folders: []string{"Sequencing", "SOPs"}},
	}
	for _, s := range pageSeeds() {
		space, folder, _ := strings.Cut(s.location, ":")
		created := sampleToday.AddDate(0, 0, -s.daysAgo).Add(-time.Duration(r.between(1, 8)) * time.Hour)
		w.lastHRID[s.kind]++
		p := &page{
			Kind:     s.kind,
			HRID:     fmt.Sprintf("%s-%04d", s.kind.prefix(), w.lastHRID[s.kind]),
			UUID:     r.uuid(),
			Name:     s.name,
			Labspace: space,
			Folder:   folder,
			Status:   s.status,
			Author:   s.author,
			Created:  created,
			Updated:  notAfterToday(created.AddDate(0, 0, r.between(0, 6))),
			HTML:     s.html,
			Elements: s.elements,
			Linked:   s.linked,
		}
		w.pages = append(w.pages, p)
	}
}

func step(text string) element    { return element{Type: "step", Text: text} }
func heading(text string) element { return element{Type: "heading", Text: text} }
func note(text string) element    { return element{Type: "note", Text: text} }
func para(text string) element    { return element{Type: "paragraph", Text: text} }

// pageSeeds returns the sample pages in hrid order per kind: experiments
// EXP-0001…EXP-0014, protocols PRT-0001…PRT-0006 (PRT-0003 is the DNA
// extraction SOP), documentation DOC-0001…DOC-0008.
func pageSeeds() []pageSeed {
	return []pageSeed{
		// Experiments.
		{kind: experimentPage, name: "His-MBP-TEV expression test in BL21(DE3)", location: "Protein Lab:Purification", status: "Completed", author: "Hana Sato", daysAgo: 160,
			html: `<h2>Aim</h2><p>Compare soluble expression of His6-MBP-TEV at 18 °C and 37 °C after IPTG induction.</p>
<h2>Setup</h2><ul><li>Strain: BL21(DE3), pET-28a(+)-His6-MBP-TEV (PL-0010)</li><li>2 × 50 mL TB + kanamycin 50 µg/mL, induced at OD600 0.8 with 0.4 mM IPTG</li></ul>
<h2>Results</h2><table><tr><th>Condition</th><th>Total (mg/L)</th><th>Soluble (%)</th></tr><tr><td>18 °C, 16 h</td><td>41</td><td>78</td></tr><tr><td>37 °C, 4 h</td><td>55</td><td>22</td></tr></table>
<p>18 °C overnight gives mostly soluble protein. Scale up at 18 °C.</p>`,
			linked: []string{"Plasmids"}},
		{kind: experimentPage, name: "Ni-NTA purification of TEV protease, batch 3", location: "Protein Lab:Purification", status: "Completed", author: "Hana Sato", daysAgo: 142,
			html: `<h2>Summary</h2><p>2 L culture, lysed by sonication in 50 mM HEPES pH 7.5, 300 mM NaCl, 20 mM imidazole. Eluted with a 20–500 mM imidazole gradient on a 5 mL HisTrap.</p>
<h2>Yield</h2><p>18.4 mg after desalting into storage buffer (A280, ε = 32,290 M<sup>-1</sup>cm<sup>-1</sup>). Aliquots of 50 µL at 1 mg/mL stored at -80 °C, box 12.</p>
<h2>Gel</h2><p>Single band at ~27 kDa; minor contaminant at 60 kDa removed by SEC.</p>`},
		{kind: experimentPage, name: "Size-exclusion polishing of KRAS G12D (Superdex 75)", location: "Protein Lab:Purification", status: "In Progress", author: "Rafael Alvarez", daysAgo: 38,
			html: `<h2>Run</h2><p>HiLoad 16/600 Superdex 75 pg, 1 mL/min in 20 mM HEPES pH 7.4, 150 mM NaCl, 5 mM MgCl<sub>2</sub>, 1 mM TCEP.</p>
<p>Main peak at 72 mL (monomer). Pooled fractions B4–B9, 6.2 mg total.</p>
<h2>Next</h2><p>Nucleotide exchange to GppNHp, then thermal shift screen (EXP-0004).</p>`},
		{kind: experimentPage, name: "Thermal shift assay — KRAS G12D ligand screen plate 1", location: "Protein Lab:Assays", status: "In Progress", author: "Rafael Alvarez", daysAgo: 30,
			html: `<h2>Design</h2><p>2 µM KRAS G12D, 5× SYPRO Orange, 80 compounds at 50 µM, DMSO 1% final. QuantStudio 5, 25–95 °C at 0.05 °C/s.</p>
<h2>Hits</h2><table><tr><th>Compound</th><th>ΔTm (°C)</th></tr><tr><td>KR-0117</td><td>+3.8</td></tr><tr><td>KR-0142</td><td>+2.9</td></tr><tr><td>KR-0008</td><td>+2.1</td></tr></table>
<p>Hits re-tested in duplicate on plate 2.</p>`},
		{kind: experimentPage, name: "Western blot: GFP expression in HEK293T-GFP clones", location: "Protein Lab", status: "Completed", author: "Maya Okafor", daysAgo: 64,
			html: `<h2>Samples</h2><p>Lysates of HEK293T-GFP clones #1–#12 (plate PLT-00142, wells A1–F10), 20 µg per lane.</p>
<h2>Antibodies</h2><ul><li>Anti-GFP, rabbit (ab290), 1:5000</li><li>Anti-β-actin, mouse (A5441), 1:10000</li></ul>
<h2>Result</h2><p>Clones 3, 7 and 11 show the strongest GFP band relative to actin; clone 5 is negative and will be retired.</p>`,
			linked: []string{"Cell Lines"}},
		{kind: experimentPage, name: "BCA assay of lysates for PLT-00142", location: "Protein Lab:Assays", status: "Completed", author: "Maya Okafor", daysAgo: 66,
			html: `<h2>Method</h2><p>Pierce BCA, 25 µL sample + 200 µL working reagent, 30 min at 37 °C, A562 on SpectraMax iD5. BSA standards in column 11, blanks in column 12.</p>
<h2>Result</h2><p>Standard curve R² = 0.998. Lysate concentrations 0.9–2.6 mg/mL, recorded per well in the plate manifest.</p>`},
		{kind: experimentPage, name: "SPR kinetics of RBD–ACE2 binding", location: "Protein Lab:Assays", status: "Draft", author: "Daniel Mensah", daysAgo: 12,
			html: `<h2>Plan</h2><p>Biacore 8K, CM5 chip, ACE2-Fc captured on protein A. RBD series 0.8–100 nM, 120 s association, 600 s dissociation.</p>
<p>Expected K<sub>D</sub> in the low nanomolar range; compare with the literature value of 15 nM.</p>`},
		{kind: experimentPage, name: "gDNA extraction from HCT116 clones", location: "Genomics", status: "Completed", author: "Priya Sharma", daysAgo: 90,
			html: `<h2>Summary</h2><p>Genomic DNA from 16 HCT116 clones following PRT-0003 (DNeasy Blood &amp; Tissue), 1 × 10<sup>6</sup> cells each.</p>
<h2>Yield</h2><table><tr><th>Clone</th><th>ng/µL</th><th>A260/280</th></tr><tr><td>c02</td><td>84.1</td><td>1.86</td></tr><tr><td>c05</td><td>67.5</td><td>1.88</td></tr><tr><td>c11</td><td>102.3</td><td>1.84</td></tr></table>
<p>All samples above 50 ng/µL; stored at -20 °C, box G-4.</p>`,
			linked: []string{"Cell Lines"}},
		{kind: experimentPage, name: "CRISPR knockout validation: BRCA1 amplicon sequencing", location: "Genomics:Sequencing", status: "Completed", author: "Priya Sharma", daysAgo: 75,
			html: `<h2>Approach</h2><p>PCR of a 280 bp amplicon around the sgRNA site (Q5, 30 cycles), Illumina adapters by a second PCR, MiSeq 2 × 150.</p>
<h2>Editing</h2><p>Clone c05: biallelic frameshift (-1/+1). Clone c11: in-frame 9 bp deletion, excluded. Clone c02: unedited.</p>`},
		{kind: experimentPage, name: "RNA-seq library prep batch 7 (TruSeq stranded)", location: "Genomics:Sequencing", status: "In Progress", author: "Jonas Lindqvist", daysAgo: 21,
			html: `<h2>Input</h2><p>24 RNA samples from the RNA-seq Sample Intake labflow, RIN ≥ 8.0, 500 ng each.</p>
<h2>Progress</h2><ul><li>Poly-A selection and fragmentation done</li><li>Adapter ligation done; 12 PCR cycles</li><li>Library QC on TapeStation pending</li></ul>`},
		{kind: experimentPage, name: "qPCR of TP53 knockdown in A549-shTP53", location: "Genomics", status: "Completed", author: "Jonas Lindqvist", daysAgo: 54,
			html: `<h2>Method</h2><p>RNA by PRT-0004, cDNA from 1 µg, SYBR Green, primers TP53-F/R and GAPDH-F/R, ΔΔCt against the parental line.</p>
<h2>Result</h2><p>TP53 mRNA reduced to 18% ± 4% (n = 3) in A549-shTP53 #4; non-targeting control at 96%.</p>`},
		{kind: experimentPage, name: "Whole-plasmid sequencing of PL-0003 and PL-0006", location: "Genomics:Sequencing", status: "Completed", author: "Priya Sharma", daysAgo: 47,
			html: `<h2>Samples</h2><p>Midipreps of lentiCRISPRv2 (PL-0003) and lentiCRISPRv2-sgBRCA1 (PL-0006), 500 ng each, sent for nanopore whole-plasmid sequencing.</p>
<h2>Result</h2><p>Both consensus sequences match the reference maps. PL-0006 spacer confirmed: 5′-GAAGGCCCTTTCTTCTGGTT-3′.</p>`,
			linked: []string{"Plasmids"}},
		{kind: experimentPage, name: "Mycoplasma PCR screen, Q2 2025", location: "Genomics", status: "Completed", author: "Daniel Mensah", daysAgo: 15,
			html: `<h2>Scope</h2><p>Supernatants of all 41 lines in active culture, 3 days after the last medium change.</p>
<h2>Result</h2><p>All negative; positive control amplified at the expected 270 bp. Mycoplasma Tested updated in Cell Lines.</p>`,
			linked: []string{"Cell Lines"}},
		{kind: experimentPage, name: "Nanopore run: HEK293T structural variants", location: "Genomics:Sequencing", status: "Draft", author: "Jonas Lindqvist", daysAgo: 6,
			html: `<h2>Plan</h2><p>HMW DNA from HEK293T (Circulomics kit), ligation library SQK-LSK114, one PromethION flow cell. Target 30× coverage, N50 above 25 kb.</p>`},

		// Protocols.
		{kind: protocolPage, name: "Ni-NTA His-tag Purification", location: "Protein Lab:Purification", status: "Approved", author: "Hana Sato", daysAgo: 400,
			elements: []element{
				para("Gravity-flow purification of His-tagged proteins from a 1 L E. coli pellet."),
				heading("Buffers"),
				{Type: "table", Rows: [][]string{{"Buffer", "Composition"}, {"Lysis", "50 mM HEPES pH 7.5, 300 mM NaCl, 20 mM imidazole"}, {"Wash", "Lysis buffer with 40 mM imidazole"}, {"Elution", "Lysis buffer with 300 mM imidazole"}}},
				heading("Procedure"),
				step("Resuspend the pellet in 40 mL lysis buffer with protease inhibitors."),
				step("Sonicate on ice, 10 × 10 s pulses at 40% amplitude."),
				step("Clarify at 30,000 × g for 30 min at 4 °C."),
				step("Bind the supernatant to 2 mL Ni-NTA agarose for 1 h at 4 °C with rotation."),
				step("Wash with 20 column volumes of wash buffer."),
				step("Elute in 1 mL fractions with elution buffer; check by SDS-PAGE."),
				note("Imidazole absorbs at 280 nm: blank the spectrophotometer with elution buffer."),
			}},
		{kind: protocolPage, name: "SDS-PAGE and Western Blot", location: "Protein Lab", status: "Approved", author: "Maya Okafor", daysAgo: 380,
			elements: []element{
				heading("Gel"),
				step("Load 20 µg protein per lane on a 4–20% TGX gel; run at 200 V for 35 min."),
				heading("Transfer"),
				step("Transfer to PVDF with the Trans-Blot Turbo, mixed MW program (7 min)."),
				step("Block in 5% milk in TBST for 1 h."),
				step("Incubate with primary antibody overnight at 4 °C."),
				step("Wash 3 × 5 min in TBST; secondary antibody 1 h at room temperature."),
				step("Develop with ECL and image on the ChemiDoc."),
				{Type: "checklist", Items: []string{"Ladder loaded", "Transfer checked with Ponceau S", "Exposure saved to the ELN"}},
			}},
		{kind: protocolPage, name: "DNA Extraction SOP (DNeasy Blood & Tissue)", location: "Genomics:SOPs", status: "Approved", author: "Priya Sharma", daysAgo: 365,
			elements: []element{
				para("Genomic DNA from cultured cells (up to 5 × 10^6) with the Qiagen DNeasy Blood & Tissue Kit. Expected yield 15–30 µg."),
				heading("Materials"),
				{Type: "checklist", Items: []string{"DNeasy Blood & Tissue Kit (69504)", "Proteinase K", "Ethanol 96–100%", "Heat block at 56 °C", "Microcentrifuge"}},
				heading("Procedure"),
				step("Pellet cells at 300 × g for 5 min and resuspend in 200 µL PBS."),
				step("Add 20 µL proteinase K and 200 µL Buffer AL; vortex."),
				step("Incubate at 56 °C for 10 min."),
				step("Add 200 µL ethanol and vortex."),
				step("Load onto a DNeasy spin column; centrifuge at 6,000 × g for 1 min."),
				step("Wash with 500 µL Buffer AW1, then 500 µL Buffer AW2 (20,000 × g, 3 min)."),
				step("Elute in 100–200 µL Buffer AE after a 1 min incubation."),
				heading("QC"),
				step("Measure concentration with Qubit dsDNA HS and purity by NanoDrop (A260/280 1.8–2.0)."),
				note("Record yields in the experiment page and label tubes with the sample UUID."),
			}},
		{kind: protocolPage, name: "RNA Extraction with TRIzol", location: "Genomics:SOPs", status: "Approved", author: "Jonas Lindqvist", daysAgo: 350,
			elements: []element{
				note("TRIzol and chloroform are toxic: work in the fume hood."),
				step("Lyse cells in 1 mL TRIzol per 10 cm² of culture surface."),
				step("Add 200 µL chloroform, shake 15 s, incubate 3 min."),
				step("Centrifuge at 12,000 × g for 15 min at 4 °C."),
				step("Transfer the aqueous phase; precipitate with 500 µL isopropanol."),
				step("Wash the pellet with 75% ethanol; air dry 5 min."),
				step("Dissolve in 30 µL RNase-free water; check RIN on the TapeStation."),
			}},
		{kind: protocolPage, name: "Mammalian Cell Passaging", location: "Protein Lab", status: "Approved", author: "Maya Okafor", daysAgo: 420,
			elements: []element{
				step("Pre-warm medium, PBS and trypsin-EDTA to 37 °C."),
				step("Aspirate medium and rinse the flask with PBS."),
				step("Add trypsin-EDTA (1 mL per T75) and incubate 3–5 min."),
				step("Neutralise with 9 mL complete medium; count cells."),
				step("Seed at the split ratio in the Cell Lines row; update Passage and Passage Date."),
			}},
		{kind: protocolPage, name: "Qubit dsDNA Quantification", location: "Genomics:SOPs", status: "Approved", author: "Priya Sharma", daysAgo: 300,
			elements: []element{
				step("Prepare working solution: 1 µL dye per 199 µL buffer per sample."),
				step("Mix 190 µL working solution with 10 µL of each standard."),
				step("Mix 198 µL working solution with 2 µL sample."),
				step("Incubate 2 min at room temperature and read on the Qubit 4."),
			}},

		// Documentation.
		{kind: documentationPage, name: "Protein Lab onboarding", location: "Protein Lab", status: "Published", author: "Hana Sato", daysAgo: 500,
			html: `<h1>Welcome to the Protein Lab</h1><p>Before your first week at the bench, complete the biosafety and chemical hygiene training and book an AKTA induction.</p>
<h2>Where things are</h2><ul><li>-80 °C freezer F-01: protein aliquots, rack B</li><li>Cold room CR-1: columns and buffers</li><li>Cabinet C-3: flammables</li></ul>`},
		{kind: documentationPage, name: "AKTA pure maintenance log", location: "Protein Lab:Purification", status: "Published", author: "Rafael Alvarez", daysAgo: 200,
			html: `<h2>Weekly</h2><p>Flush pumps with 20% ethanol, check pressure sensor zero, empty the waste.</p>
<h2>Log</h2><table><tr><th>Date</th><th>Work</th></tr><tr><td>2025-05-26</td><td>Replaced inline filter</td></tr><tr><td>2025-04-14</td><td>Pump seals changed by service</td></tr></table>`},
		{kind: documentationPage, name: "Buffer recipes", location: "Protein Lab", status: "Published", author: "Hana Sato", daysAgo: 460,
			html: `<h2>HEPES saline (1 L)</h2><p>4.77 g HEPES, 8.77 g NaCl, pH 7.5 with NaOH, filter 0.22 µm.</p>
<h2>TBST (1 L)</h2><p>100 mL 10× TBS, 1 mL Tween-20, water to 1 L.</p>`},
		{kind: documentationPage, name: "Plate reader settings (SpectraMax iD5)", location: "Protein Lab:Assays", status: "Published", author: "Maya Okafor", daysAgo: 240,
			html: `<h2>BCA</h2><p>Absorbance 562 nm, 25 °C, shake 5 s before read.</p><h2>GFP</h2><p>Ex 485 nm / Em 515 nm, top read, gain auto.</p>`},
		{kind: documentationPage, name: "Genomics core: sample submission guidelines", location: "Genomics", status: "Published", author: "Jonas Lindqvist", daysAgo: 330,
			html: `<h2>DNA</h2><p>At least 20 ng/µL in 10 mM Tris pH 8.0, A260/280 between 1.8 and 2.0.</p><h2>RNA</h2><p>RIN 7 or higher, at least 100 ng, shipped on dry ice.</p><p>Register every sample in the RNA-seq Sample Intake labflow before drop-off.</p>`},
		{kind: documentationPage, name: "Illumina MiSeq run checklist", location: "Genomics:Sequencing", status: "Published", author: "Priya Sharma", daysAgo: 280,
			html: `<ol><li>Thaw the reagent cartridge in a water bath for 1 h.</li><li>Denature and dilute the library to 10 pM with 5% PhiX.</li><li>Clean the flow cell with ethanol wipes.</li><li>Check the sample sheet against the labflow.</li></ol>`},
		{kind: documentationPage, name: "-80 °C freezer map and alarm response", location: "Genomics", status: "Published", author: "Daniel Mensah", daysAgo: 190,
			html: `<h2>Freezer F-01</h2><p>Shelf 1: frozen cell stocks (box 31 and up). Shelf 2, rack B: protein aliquots and lysate plates such as PLT-00142.</p>
<h2>Alarm</h2><p>If the alarm sounds, check the door seal and the display temperature. Above -60 °C, move boxes to the backup freezer F-04 and call facilities on extension 4411.</p>`},
		{kind: documentationPage, name: "Biosafety: BSL-2 lentivirus work", location: "Genomics:SOPs", status: "Published", author: "Daniel Mensah", daysAgo: 410,
			html: `<h2>Scope</h2><p>Production and use of third-generation lentiviral vectors (psPAX2 / pMD2.G packaging).</p><h2>Rules</h2><ul><li>Class II cabinet only, 10% bleach for 20 min on all waste.</li><li>Sharps are not allowed in the cabinet.</li><li>Log every transduction in the experiment page.</li></ul>`},
	}
}
