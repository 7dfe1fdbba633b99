package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at link time by `make build` and `make deb`:
//
//	-ldflags "-X github.com/vpnkeys/vpnkeys/internal/cli.version=0.1.0 -X github.com/vpnkeys/vpnkeys/internal/cli.commit=fc6ee21"
//
// A plain `go build` leaves them empty; the build info fills what it can.
var (
	version string
	commit  string
)

// versionLine is what `vpnkeys --version` prints: version, commit and the
// Go toolchain that built the binary.
func versionLine() string {
	v, c, goVersion := version, commit, runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
				if len(c) > 12 {
					c = c[:12]
				}
			case s.Key == "vcs.modified" && s.Value == "true":
				modified = true
			}
		}
		if modified && commit == "" && c != "" {
			c += "-dirty"
		}
	}
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("vpnkeys %s (commit %s, %s, %s/%s)", v, c, goVersion, runtime.GOOS, runtime.GOARCH)
}
