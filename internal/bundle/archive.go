package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"time"
)

// TarGz packs files under the folder prefix dir/ as a gzip-compressed tar.
func TarGz(w io.Writer, dir string, files []File, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o700, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("writing tar: %w", err)
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: dir + "/" + f.Name, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data)), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing tar: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("writing tar: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing tar: %w", err)
	}
	return gz.Close()
}

// Zip packs files under the folder prefix dir/ as a zip (what Windows
// users open without extra tools).
func Zip(w io.Writer, dir string, files []File, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, f := range files {
		h := &zip.FileHeader{Name: dir + "/" + f.Name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(f.Mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("writing zip: %w", err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("writing zip: %w", err)
		}
	}
	return zw.Close()
}

// Archives returns the .tar.gz and the .zip of a bundle in memory.
func Archives(user string, files []File, mtime time.Time) (tgz, zipped []byte, err error) {
	var a, b bytes.Buffer
	if err := TarGz(&a, user, files, mtime); err != nil {
		return nil, nil, err
	}
	if err := Zip(&b, user, files, mtime); err != nil {
		return nil, nil, err
	}
	return a.Bytes(), b.Bytes(), nil
}
