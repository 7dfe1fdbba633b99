package tlscryptv2

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
)

const (
	// ClientKeySize is the size of Kc, the client's own tls-crypt key:
	// OpenVPN's struct key2, two struct keys of 128 bytes.
	ClientKeySize = 256

	tagSize = 32 // HMAC-SHA256
	lenSize = 2  // the big-endian length at the end of WKc
	// maxWKcSize is OpenVPN's TLS_CRYPT_V2_MAX_WKC_LEN; it bounds M at
	// 1024 - 256 - 32 - 2 = 734 bytes, the type byte included.
	maxWKcSize = 1024
	minWKcSize = tagSize + ClientKeySize + 1 + lenSize
)

// errZeroKey is returned when the zero ServerKey is used.
var errZeroKey = errors.New("no tls-crypt-v2 server key")

// NewClientKey draws a client key Kc and wraps it with metadata under k:
// the PEM "OpenVPN tls-crypt-v2 client key" of Kc || WKc that a client
// uses as `tls-crypt-v2 FILE`.
func (k ServerKey) NewClientKey(metadata Metadata) ([]byte, error) {
	if !k.set {
		return nil, errZeroKey
	}
	if err := metadata.Validate(); err != nil {
		return nil, err
	}
	kc := make([]byte, ClientKeySize)
	if _, err := rand.Read(kc); err != nil {
		return nil, fmt.Errorf("drawing tls-crypt-v2 client key: %w", err)
	}
	wkc, err := k.wrap(kc, metadata.bytes())
	if err != nil {
		return nil, err
	}
	body := append(kc, wkc...)
	return pem.EncodeToMemory(&pem.Block{Type: pemClientKey, Bytes: body}), nil
}

// Unwrap reads a client key made from k (by NewClientKey or by `openvpn
// --genkey tls-crypt-v2-client`): it checks WKc's tag as the server does,
// checks that the Kc in clear is the one wrapped, and returns Kc and the
// metadata. A key made from another server key, or changed in any byte,
// is refused with ErrInvalidKey.
func (k ServerKey) Unwrap(clientKeyPEM []byte) ([]byte, Metadata, error) {
	if !k.set {
		return nil, Metadata{}, errZeroKey
	}
	body, err := decodePEM(clientKeyPEM, pemClientKey)
	if err != nil {
		return nil, Metadata{}, err
	}
	if len(body) < ClientKeySize {
		return nil, Metadata{}, fmt.Errorf("%w: client key too short", ErrInvalidKey)
	}
	plain, err := k.unwrap(body[ClientKeySize:])
	if err != nil {
		return nil, Metadata{}, err
	}
	kc := plain[:ClientKeySize]
	if subtle.ConstantTimeCompare(kc, body[:ClientKeySize]) != 1 {
		return nil, Metadata{}, fmt.Errorf("%w: the client key does not match its wrapped copy", ErrInvalidKey)
	}
	m := Metadata{Type: MetadataType(plain[ClientKeySize]), Data: plain[ClientKeySize+1:]}
	return kc, m, nil
}

// wrap returns WKc = T || AES-256-CTR(Ke, T[0:16], kc || m) || len, with
// T = HMAC-SHA256(Ka, len || kc || m).
func (k *ServerKey) wrap(kc, m []byte) ([]byte, error) {
	size := tagSize + len(kc) + len(m) + lenSize
	if size > maxWKcSize {
		return nil, fmt.Errorf("%w: wrapped key of %d bytes, at most %d", ErrMetadata, size, maxWKcSize)
	}
	var l [lenSize]byte
	binary.BigEndian.PutUint16(l[:], uint16(size))
	mac := hmac.New(sha256.New, k.macKey())
	mac.Write(l[:])
	mac.Write(kc)
	mac.Write(m)
	wkc := mac.Sum(make([]byte, 0, size))
	plain := append(append(make([]byte, 0, len(kc)+len(m)), kc...), m...)
	ct, err := k.ctr(wkc[:aes.BlockSize], plain)
	if err != nil {
		return nil, err
	}
	wkc = append(wkc, ct...)
	return append(wkc, l[:]...), nil
}

// unwrap checks and decrypts WKc and returns Kc || M, as OpenVPN's
// tls_crypt_v2_unwrap_client_key does; M holds at least its type byte.
func (k *ServerKey) unwrap(wkc []byte) ([]byte, error) {
	if len(wkc) < minWKcSize || len(wkc) > maxWKcSize {
		return nil, fmt.Errorf("%w: wrapped key of %d bytes, want %d to %d", ErrInvalidKey, len(wkc), minWKcSize, maxWKcSize)
	}
	l := wkc[len(wkc)-lenSize:]
	if int(binary.BigEndian.Uint16(l)) != len(wkc) {
		return nil, fmt.Errorf("%w: wrapped key length field does not match", ErrInvalidKey)
	}
	tag := wkc[:tagSize]
	plain, err := k.ctr(tag[:aes.BlockSize], wkc[tagSize:len(wkc)-lenSize])
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, k.macKey())
	mac.Write(l)
	mac.Write(plain)
	if !hmac.Equal(mac.Sum(nil), tag) {
		return nil, fmt.Errorf("%w: authentication failed (changed, or made for another server key)", ErrInvalidKey)
	}
	return plain, nil
}

// ctr runs AES-256-CTR under Ke from iv over in (encryption and
// decryption are the same), with OpenSSL's 128-bit big-endian counter.
func (k *ServerKey) ctr(iv, in []byte) ([]byte, error) {
	block, err := aes.NewCipher(k.encKey())
	if err != nil {
		return nil, fmt.Errorf("making AES-256 cipher: %w", err)
	}
	out := make([]byte, len(in))
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	return out, nil
}
