package report

// The external tests open reports a real run filed with the same tools.
var (
	Chromium = chromium
	DOMText  = domText
	PDFPages = pdfPages
	AllIDs   = allIDs
	FileURL  = fileURL
)
