package roster

import "bytes"

// delimiter guesses the field separator from the header line: spreadsheets
// set to a European locale save "CSV" with ';' (the comma is their decimal
// separator), and some export tabs. The header names only plain columns,
// so the separator that occurs most in it is the one.
func delimiter(data []byte) rune {
	header, _, _ := bytes.Cut(data, []byte("\n"))
	best, bestN := ',', bytes.Count(header, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(header, []byte(string(d))); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}
