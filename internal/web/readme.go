package web

import (
	"regexp"
	"strings"
)

var (
	listItemRE  = regexp.MustCompile(`^(\d+\.|[-*•])\s`)
	underlineRE = regexp.MustCompile(`^[-=]{3,}$`)
)

// unwrapReadme joins the hard-wrapped lines of a readme's paragraphs so
// that a browser wraps them at the page's width instead of breaking a
// sentence at column 78 and again at the screen's edge. Headings and their
// underlines, list items, and lines indented four spaces or more (commands)
// keep their own lines; a list item's continuation (indented three spaces
// or less) joins its item.
func unwrapReadme(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	prevIndent := 0
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		indent := len(l) - len(trimmed)
		nextUnderline := i+1 < len(lines) && underlineRE.MatchString(strings.TrimSpace(lines[i+1]))
		if n := len(out); n > 0 && joinable(out[n-1], prevIndent, trimmed, indent) && !nextUnderline {
			out[n-1] = strings.TrimRight(out[n-1], " ") + " " + strings.TrimSpace(trimmed)
			continue
		}
		out = append(out, l)
		prevIndent = indent
	}
	return strings.Join(out, "\n")
}

// joinable says whether line (after prev, indented prevIndent) continues
// prev's paragraph.
func joinable(prev string, prevIndent int, line string, indent int) bool {
	p := strings.TrimSpace(prev)
	switch {
	case p == "" || line == "", indent > 3, prevIndent > 3:
		return false
	case underlineRE.MatchString(p), underlineRE.MatchString(line), listItemRE.MatchString(line):
		return false
	case strings.HasSuffix(p, ":"): // "Hola, Ana:" or a line introducing commands
		return false
	}
	return true
}
