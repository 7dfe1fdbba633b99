package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DefaultWarnDays is when serve warns a user that their certificate ends:
// 30, 7 and 1 days before.
var DefaultWarnDays = []int{30, 7, 1}

// MaxWarnDays bounds one threshold of the warning schedule, and
// MaxWarnEntries the schedule's length.
const (
	MaxWarnDays    = 365
	MaxWarnEntries = 10
)

// ValidWarnDays checks a warning schedule: each threshold 1 to 365 days,
// distinct, at most 10. An empty schedule is valid: no user warnings.
func ValidWarnDays(days []int) error {
	if len(days) > MaxWarnEntries {
		return fmt.Errorf("%d entries: want at most %d", len(days), MaxWarnEntries)
	}
	seen := map[int]bool{}
	for _, d := range days {
		if d < 1 || d > MaxWarnDays {
			return fmt.Errorf("%d: want each 1 to %d days", d, MaxWarnDays)
		}
		if seen[d] {
			return fmt.Errorf("%d given twice: want distinct days", d)
		}
		seen[d] = true
	}
	return nil
}

// ParseWarnDays reads a schedule written as VPNKEYS_WARN_DAYS is
// ("30,7,1"; "" or "none" for no user warnings) and checks it.
func ParseWarnDays(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number of days: want e.g. 30,7,1", strings.TrimSpace(f))
		}
		out = append(out, n)
	}
	if err := ValidWarnDays(out); err != nil {
		return nil, err
	}
	return out, nil
}

// WarnSchedule is the file's warning schedule, DefaultWarnDays when it
// sets none, largest first.
func (c *Config) WarnSchedule() []int {
	days := DefaultWarnDays
	if c.WarnDays != nil {
		days = *c.WarnDays
	}
	out := slices.Clone(days)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}
