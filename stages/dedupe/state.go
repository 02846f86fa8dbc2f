package dedupe

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// uriRecord is the value under "u.<hash(uri)>": the newest version of a uri
// seen so far. It is written only by compare-and-set.
type uriRecord struct {
	Version string
	VC      int64  // versioncreated, Unix ns
	Seq     uint64 // IngestSeq of that version
	Content uint64 // hash of raw headline, body, ednote and pubstatus
	Killed  bool
	// Wrote is how the story that last wrote the record was decided:
	// wroteFirst (it created the record), wroteUpdate, wroteKill or
	// wroteDuplicate. A redelivery of that story (same IngestSeq, version
	// and content) gets the same decision again.
	Wrote byte
}

const (
	wroteFirst byte = iota
	wroteUpdate
	wroteKill
	wroteDuplicate
)

// claim is the value under "f.<fingerprint>": who first carried a content.
type claim struct {
	Raw uint64 // hash of the raw headline and body (duplicate vs reformatted)
	Seq uint64
	URI string
}

const stateVersion = 1

func (r *uriRecord) marshal(b []byte) []byte {
	flags := byte(0)
	if r.Killed {
		flags = 1
	}
	b = append(b, stateVersion, flags|r.Wrote<<4)
	b = binary.LittleEndian.AppendUint64(b, r.Content)
	b = binary.AppendVarint(b, r.VC)
	b = binary.AppendUvarint(b, r.Seq)
	return append(b, r.Version...)
}

func (r *uriRecord) unmarshal(b []byte) error {
	if len(b) < 10 || b[0] != stateVersion {
		return fmt.Errorf("dedupe: bad uri record")
	}
	r.Killed = b[1]&1 != 0
	r.Wrote = b[1] >> 4
	r.Content = binary.LittleEndian.Uint64(b[2:])
	b = b[10:]
	var n int
	if r.VC, n = binary.Varint(b); n <= 0 {
		return fmt.Errorf("dedupe: bad uri record")
	}
	b = b[n:]
	if r.Seq, n = binary.Uvarint(b); n <= 0 {
		return fmt.Errorf("dedupe: bad uri record")
	}
	r.Version = string(b[n:])
	return nil
}

func (c *claim) marshal(b []byte) []byte {
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint64(b, c.Raw)
	b = binary.AppendUvarint(b, c.Seq)
	return append(b, c.URI...)
}

func (c *claim) unmarshal(b []byte) error {
	if len(b) < 9 || b[0] != stateVersion {
		return fmt.Errorf("dedupe: bad claim")
	}
	c.Raw = binary.LittleEndian.Uint64(b[1:])
	var n int
	if c.Seq, n = binary.Uvarint(b[9:]); n <= 0 {
		return fmt.Errorf("dedupe: bad claim")
	}
	c.URI = string(b[9+n:])
	return nil
}

// URIKey is the Store key of the record of uri: "u." and 128 bits of its
// SHA-256 in unpadded base64url (24 characters, a valid NATS KV key).
func URIKey(uri string) string {
	sum := sha256.Sum256([]byte(uri))
	return keyOf('u', sum[:16])
}

// ClaimKey is the Store key of the claim of a content fingerprint.
func ClaimKey(fp Fingerprint) string { return keyOf('f', fp[:]) }

func keyOf(prefix byte, h []byte) string {
	var b [24]byte
	b[0], b[1] = prefix, '.'
	base64.RawURLEncoding.Encode(b[2:], h)
	return string(b[:])
}
