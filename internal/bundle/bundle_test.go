package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func data() Data {
	return Data{User: "alice", OS: "linux", Lang: "en", Expires: "2028-01-01",
		Servers: []Server{{"dc1", "vpn1.example.com", 1194, "udp", "vpn1.example.com:1194/udp", ""}, {"dc2", "vpn2.example.com", 443, "tcp", "vpn2.example.com:443/tcp", ""}},
		CA:      "CA-PEM\n", Cert: "CERT-PEM\n", Key: "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n", TLSCrypt: "TA\n"}
}

func byName(files []File) map[string]File {
	m := map[string]File{}
	for _, f := range files {
		m[f.Name] = f
	}
	return m
}

// TestGenShFolder: the old script's distribution folder works unchanged as
// a templates folder.
func TestGenShFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) { os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644) }
	write("mycompany_vpn.ovpn", "client\ncert change_me.crt\nkey change_me.key\n")
	write("readme_vpn_win.txt", "Hello change_me\n")
	write("server.conf", "# for change_me\n")
	write("openssl.cnf", "CN=change_me\n")
	write("logo.bin", "\x00change_me\x01")
	write("ta.key", "DIST-TA\n")
	write("welcome.txt.tmpl", "Welcome {{.User}} ({{len .Servers}} servers)\n")
	tm, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := tm.Render(data())
	if err != nil {
		t.Fatal(err)
	}
	m := byName(files)
	want := map[string]string{
		"mycompany_vpn_alice.ovpn": "client\ncert alice.crt\nkey alice.key\n",
		"readme_vpn_win.txt":       "Hello alice\n",
		"server.conf":              "# for alice\n",
		"openssl.cnf":              "CN=alice\n",
		"logo.bin":                 "\x00change_me\x01",
		"ta.key":                   "TA\n", // generated key material wins
		"welcome.txt":              "Welcome alice (2 servers)\n",
	}
	for name, content := range want {
		if got := string(m[name].Data); got != content {
			t.Errorf("%s: got %q, want %q", name, got, content)
		}
	}
	if m["mycompany_vpn_alice.ovpn"].Mode != 0o600 {
		t.Errorf("dist profile mode: got %o, want 600", m["mycompany_vpn_alice.ovpn"].Mode)
	}
	p := string(m["alice.ovpn"].Data)
	if !strings.Contains(p, "remote vpn1.example.com 1194 udp\nremote vpn2.example.com 443 tcp\n") || !strings.Contains(p, "<key>\n-----BEGIN PRIVATE KEY-----") {
		t.Errorf("inline profile:\n%s", p)
	}
}

func TestArchivesAndStage(t *testing.T) {
	tm, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	files, err := tm.Render(data())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundles")
	st, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Stage("alice", files, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "alice")); !os.IsNotExist(err) {
		t.Fatal("staged bundle visible before Commit")
	}
	if err := Commit([]*Staged{s}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(out, "alice", f.Name))
		if err != nil || fi.Mode().Perm() != f.Mode {
			t.Errorf("%s: got %v %v, want mode %o", f.Name, fi.Mode(), err, f.Mode)
		}
	}
	// tar.gz and zip hold the same files under alice/.
	tgz, _ := os.ReadFile(filepath.Join(out, "alice.tar.gz"))
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	inTar := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		inTar[h.Name] = b
	}
	zb, _ := os.ReadFile(filepath.Join(out, "alice.zip"))
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	inZip := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		inZip[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	for _, f := range files {
		if !bytes.Equal(inTar["alice/"+f.Name], f.Data) || !bytes.Equal(inZip["alice/"+f.Name], f.Data) {
			t.Errorf("%s differs in the archives", f.Name)
		}
	}

	// A second bundle replaces the first whole; nothing staged is left.
	files2 := append(files[:0:0], files...)
	files2 = files2[:len(files2)-1]
	s2, err := st.Stage("alice", files2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := Commit([]*Staged{s2}); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(filepath.Join(out, "alice"))
	if len(left) != len(files2) {
		t.Errorf("after replacing: %d files, want %d", len(left), len(files2))
	}
	// Abort leaves nothing; Close removes the staging folder.
	s3, _ := st.Stage("bob", files, time.Now())
	s3.Abort()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "bob") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestLeftovers: a staging folder whose run died goes at the next run,
// whatever its age; one a live run holds stays, however old.
func TestLeftovers(t *testing.T) {
	out := t.TempDir()
	live, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(live.dir, old, old)
	// A killed run: its folder exists and nobody holds its lock.
	dead := filepath.Join(out, stagingPrefix+"dead")
	if err := os.MkdirAll(filepath.Join(dead, "carol"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dead, "carol", "carol.key"), []byte("secret"), 0o600)
	legacy := filepath.Join(out, ".dave"+tmpMark+"1")
	os.Mkdir(legacy, 0o700)
	os.Chtimes(legacy, old, old)

	next, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	for path, want := range map[string]bool{live.dir: true, dead: false, legacy: false, next.dir: true} {
		_, err := os.Stat(path)
		if got := err == nil; got != want {
			t.Errorf("%s exists: got %v, want %v", filepath.Base(path), got, want)
		}
	}
}

func TestRemove(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "alice"), 0o700)
	os.WriteFile(filepath.Join(out, "alice", "alice.key"), []byte("k"), 0o600)
	os.WriteFile(filepath.Join(out, "alice.zip"), []byte("z"), 0o600)
	os.WriteFile(filepath.Join(out, "alice2.zip"), []byte("z"), 0o600)
	removed, err := Remove(out, "alice")
	if err != nil || len(removed) != 2 {
		t.Fatalf("Remove: got %v %v, want 2 paths", removed, err)
	}
	if _, err := os.Stat(filepath.Join(out, "alice2.zip")); err != nil {
		t.Errorf("another user's file went: %v", err)
	}
}

// TestStagingConcurrent: runs that start together never take each other's
// staging folder for a leftover (one made but not yet locked was removed
// under its owner: "locking staging folder: no such file").
func TestStagingConcurrent(t *testing.T) {
	out := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				st, err := NewStaging(out)
				if err != nil {
					errs <- err
					return
				}
				if _, err := st.Stage("alice", []File{{Name: "a", Mode: 0o600, Data: []byte("x")}}, time.Now()); err != nil {
					errs <- err
				}
				st.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestStageUmask: bundle files get their modes whatever the umask.
func TestStageUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := t.TempDir()
	st, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Stage("alice", []File{{Name: "README.txt", Mode: 0o644, Data: []byte("x")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := Commit([]*Staged{s}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(out, "alice", "README.txt")); fi.Mode().Perm() != 0o644 {
		t.Fatalf("README.txt under umask 077: got %04o, want 0644", fi.Mode().Perm())
	}
}
