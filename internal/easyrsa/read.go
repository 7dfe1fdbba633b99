package easyrsa

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Size bounds for the files Load reads. A certificate, key or request of
// easy-rsa is a few KiB (an RSA 4096 key with its PEM armour is under 4 KiB),
// so 1 MiB is generous; index.txt and crl.pem grow by about 100 bytes per
// certificate, so 64 MiB holds over half a million rows.
const (
	maxSmallFile = 1 << 20
	maxListFile  = 64 << 20
)

// errNotExist is returned by readPKIFile for a file that is simply absent,
// which some callers accept (an optional key, crl.pem).
var errNotExist = errors.New("no such file")

// readPKIFile reads dir/rel if, and only if, it is a regular file of at most
// max bytes. It refuses a symbolic link (a link to /dev/zero would exhaust
// memory) and anything else that is not a regular file (a FIFO would block
// the read forever): the file is opened with O_NOFOLLOW|O_NONBLOCK, so
// neither a link nor a FIFO without a writer can stall the open, and the
// type and size are checked on the opened descriptor (fstat), so swapping
// the file between check and read does not help. The folders between dir
// and the file must be real folders, not links. The error is one short
// sentence, fit for a Problem about rel.
func readPKIFile(dir, rel string, max int64) ([]byte, error) {
	if err := checkFolders(dir, rel); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, rel), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errNotExist
	case errors.Is(err, syscall.ELOOP):
		return nil, errors.New("is a symbolic link; only regular files are read")
	case err != nil:
		return nil, fmt.Errorf("cannot open: %w", errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat: %w", errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (%s); only regular files are read", kindOfMode(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("is %d bytes, over the %d-byte limit for this file", fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", errors.Unwrap(err))
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("grew over the %d-byte limit for this file while being read", max)
	}
	return b, nil
}

// checkFolders refuses rel when a folder on its way (issued/, private/,
// renewed/issued/ ...) is a symbolic link or not a folder. dir itself may
// be a link: the admin named it.
func checkFolders(dir, rel string) error {
	parts := strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/")
	p := dir
	for _, part := range parts {
		if part == "." || part == "" {
			continue
		}
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return errNotExist
		}
		if err != nil {
			return fmt.Errorf("cannot stat folder %s: %w", part, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return fmt.Errorf("folder %s is %s, not a real folder; only regular files in real folders are read", part, kindOfMode(fi.Mode()))
		}
	}
	return nil
}

func kindOfMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "a special file"
}
