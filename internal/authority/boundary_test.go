package authority

import (
	"go/build"
	"path/filepath"
	"slices"
	"testing"
)

// TestFrontEndsStayOutside keeps the front ends (the CLI, the web) on this
// side of the service: their code imports the service and its own types,
// never the store, the PKI or the easy-rsa reader beneath it, so every
// operation and every error mapping stays written once, here. Their tests
// may reach deeper to set things up.
func TestFrontEndsStayOutside(t *testing.T) {
	beneath := []string{
		"github.com/vpnkeys/vpnkeys/internal/store",
		"github.com/vpnkeys/vpnkeys/internal/pki",
		"github.com/vpnkeys/vpnkeys/internal/easyrsa",
	}
	for _, dir := range []string{"../cli", "../web", "../../cmd/vpnkeys"} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(pkg.GoFiles) == 0 {
			t.Fatalf("%s: no Go files: the check would pass vacuously", dir)
		}
		for _, imp := range pkg.Imports {
			if slices.Contains(beneath, imp) {
				t.Errorf("%s imports %s: go through internal/authority", filepath.Clean(dir), imp)
			}
		}
	}
}
