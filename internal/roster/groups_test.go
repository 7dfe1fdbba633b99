package roster

import (
	"fmt"
	"strings"
	"testing"
)

// TestGroupsColumn: the groups cell takes several groups separated by ';'
// or '|'; a bad group name refuses the row, naming it.
func TestGroupsColumn(t *testing.T) {
	in := "user,groups\n" +
		"alice,developers;ops\n" +
		"bob, developers | ops |developers\n" +
		"carol,\n" +
		"dave,Dev Team\n" +
		"erin,;;\n"
	rows, bad, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.User] = fmt.Sprint(r.Groups)
	}
	want := map[string]string{"alice": "[developers ops]", "bob": "[developers ops]", "carol": "[]", "erin": "[]"}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("ok/%s: got %s, want %s", u, got[u], w)
		}
	}
	if len(bad) != 1 || bad[0].User != "dave" || bad[0].Line != 5 || !strings.Contains(bad[0].Error(), "group name") {
		t.Fatalf("fail/dave: got %v, want line 5 refused for its group name", bad)
	}
	// A roster delimited by ';' (European spreadsheets) uses '|' or quotes.
	rows, bad, err = Parse(strings.NewReader("user;groups\nann;developers|ops\nben;\"ops;developers\"\n"))
	if err != nil || len(bad) != 0 || len(rows) != 2 || fmt.Sprint(rows[0].Groups, rows[1].Groups) != "[developers ops] [ops developers]" {
		t.Fatalf("ok/semicolon roster: got %+v %v %v", rows, bad, err)
	}
}
