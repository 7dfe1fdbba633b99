package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
	"time"
)

// Compressor state is large (hundreds of KiB) and costs more to set up than
// a bundle's few KiB cost to compress, so it is pooled.
var (
	gzipPool  = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
	flatePool = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}
)

// pooledFlate returns its writer to the pool when the zip entry closes.
type pooledFlate struct{ *flate.Writer }

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flatePool.Put(p.Writer)
	return err
}

func newPooledFlate(out io.Writer) (io.WriteCloser, error) {
	w := flatePool.Get().(*flate.Writer)
	w.Reset(out)
	return pooledFlate{w}, nil
}

// TarGz packs files under the folder prefix dir/ as a gzip-compressed tar.
func TarGz(w io.Writer, dir string, files []File, mtime time.Time) error {
	gz := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(gz)
	gz.Reset(w)
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
	zw.RegisterCompressor(zip.Deflate, newPooledFlate)
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
