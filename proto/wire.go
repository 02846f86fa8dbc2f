package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// The binary form of a Story is protobuf (proto3) as story.proto declares
// it. It is written by hand rather than by reflection: segmentio/encoding's
// reflective proto decoder corrupts memory when a repeated message field
// grows past ten elements on current Go (its linkname to
// runtime.typedslicecopy no longer matches the runtime's signature; a story
// tagged with 27 places made it panic), and a direct codec is also faster.
// proto/wire_test.go checks that the bytes are exactly what
// segmentio/encoding/proto produces from the same struct tags.

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errTruncated = errors.New("truncated")

func appendTag(b []byte, num int, wt int) []byte {
	return binary.AppendUvarint(b, uint64(num)<<3|uint64(wt))
}

func appendString(b []byte, num int, s string) []byte {
	if s == "" {
		return b
	}
	b = appendTag(b, num, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendVarint(b []byte, num int, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, wireVarint)
	return binary.AppendUvarint(b, v)
}

func appendMessage(b []byte, num int, size int, body func([]byte) []byte) []byte {
	b = appendTag(b, num, wireBytes)
	b = binary.AppendUvarint(b, uint64(size))
	return body(b)
}

func sizeVarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func sizeString(num int, s string) int {
	if s == "" {
		return 0
	}
	return sizeVarint(uint64(num)<<3) + sizeVarint(uint64(len(s))) + len(s)
}

func sizeVarintField(num int, v uint64) int {
	if v == 0 {
		return 0
	}
	return sizeVarint(uint64(num)<<3) + sizeVarint(v)
}

func sizeMessage(num, size int) int {
	return sizeVarint(uint64(num)<<3) + sizeVarint(uint64(size)) + size
}

// int32 values are sign-extended to 64 bits on the wire, as protobuf does.
func i32(v int32) uint64 { return uint64(int64(v)) }

func (p *Place) size() int {
	n := sizeString(1, p.Name) + sizeString(2, p.Scheme) + sizeString(3, p.Code) + sizeString(4, p.Rel) + sizeVarintField(5, i32(p.Relevance))
	if p.Geometry != nil {
		n += sizeMessage(6, p.Geometry.size())
	}
	return n
}

func (p *Place) append(b []byte) []byte {
	b = appendString(b, 1, p.Name)
	b = appendString(b, 2, p.Scheme)
	b = appendString(b, 3, p.Code)
	b = appendString(b, 4, p.Rel)
	b = appendVarint(b, 5, i32(p.Relevance))
	if p.Geometry != nil {
		b = appendMessage(b, 6, p.Geometry.size(), p.Geometry.append)
	}
	return b
}

// Geometry's coordinates are written unpacked (one fixed64 field per
// value), as segmentio/encoding/proto writes and reads them; the decoder
// also reads the packed form proto3 writers default to.
func (g *Geometry) size() int {
	return sizeString(1, g.Type) + len(g.Coordinates)*(sizeVarint(2<<3)+8)
}

func (g *Geometry) append(b []byte) []byte {
	b = appendString(b, 1, g.Type)
	for _, c := range g.Coordinates {
		b = appendTag(b, 2, wireFixed64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c))
	}
	return b
}

func decodeGeometry(r *reader) (*Geometry, error) {
	g := new(Geometry)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		switch {
		case num == 1:
			g.Type, err = r.string(wt)
		case num == 2 && wt == wireBytes: // packed
			var s, e int
			if s, e, err = r.span(); err == nil {
				if (e-s)%8 != 0 {
					err = fmt.Errorf("packed doubles of %d bytes", e-s)
					break
				}
				for i := s; i < e; i += 8 {
					g.Coordinates = append(g.Coordinates, math.Float64frombits(binary.LittleEndian.Uint64(r.b[i:])))
				}
			}
		case num == 2 && wt == wireFixed64: // unpacked, as a proto2 writer may send
			if len(r.b)-r.off < 8 {
				err = errTruncated
				break
			}
			g.Coordinates = append(g.Coordinates, math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:])))
			r.off += 8
		case num == 2:
			err = fmt.Errorf("wire type %d for doubles", wt)
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("geometry field %d: %w", num, err)
		}
	}
	return g, nil
}

func (s *Subject) size() int {
	return sizeString(1, s.Name) + sizeString(2, s.Scheme) + sizeString(3, s.Code) + sizeVarintField(4, i32(s.Relevance))
}

func (s *Subject) append(b []byte) []byte {
	b = appendString(b, 1, s.Name)
	b = appendString(b, 2, s.Scheme)
	b = appendString(b, 3, s.Code)
	return appendVarint(b, 4, i32(s.Relevance))
}

func (d *Dedupe) size() int {
	n := sizeString(1, d.Status) + sizeString(2, d.Of)
	if d.Similarity != 0 {
		n += 1 + 8
	}
	return n
}

func (d *Dedupe) append(b []byte) []byte {
	b = appendString(b, 1, d.Status)
	b = appendString(b, 2, d.Of)
	if d.Similarity != 0 {
		b = appendTag(b, 3, wireFixed64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(d.Similarity))
	}
	return b
}

func (d *Dateline) size() int {
	return sizeString(1, d.Text) + sizeVarintField(2, i32(d.Start)) + sizeVarintField(3, i32(d.End)) +
		sizeVarintField(4, i32(d.BodyStart)) + sizeString(5, d.Agency) + sizeString(6, d.Date)
}

func (d *Dateline) append(b []byte) []byte {
	b = appendString(b, 1, d.Text)
	b = appendVarint(b, 2, i32(d.Start))
	b = appendVarint(b, 3, i32(d.End))
	b = appendVarint(b, 4, i32(d.BodyStart))
	b = appendString(b, 5, d.Agency)
	return appendString(b, 6, d.Date)
}

func (s *Story) size() int {
	n := sizeString(1, s.URI) + sizeString(2, s.Type) + sizeString(3, s.Version) +
		sizeVarintField(4, uint64(s.VersionCreated)) + sizeVarintField(5, uint64(s.FirstCreated)) +
		sizeString(6, s.PubStatus) + sizeVarintField(7, i32(s.Urgency)) + sizeString(8, s.Language) +
		sizeString(9, s.Headline) + sizeString(10, s.Slugline) + sizeString(11, s.Byline) +
		sizeString(12, s.Located) + sizeString(13, s.BodyText) + sizeString(14, s.EdNote) +
		sizeString(18, s.Source) + sizeVarintField(19, uint64(s.Received)) + sizeVarintField(20, s.IngestSeq)
	for _, p := range s.Place {
		if p != nil {
			n += sizeMessage(15, p.size())
		}
	}
	for _, sub := range s.Subject {
		if sub != nil {
			n += sizeMessage(16, sub.size())
		}
	}
	if s.Dedupe != nil {
		n += sizeMessage(17, s.Dedupe.size())
	}
	if s.Dateline != nil {
		n += sizeMessage(21, s.Dateline.size())
	}
	return n
}

// AppendProto appends the binary form of s to b.
func AppendProto(b []byte, s *Story) []byte {
	b = appendString(b, 1, s.URI)
	b = appendString(b, 2, s.Type)
	b = appendString(b, 3, s.Version)
	b = appendVarint(b, 4, uint64(s.VersionCreated))
	b = appendVarint(b, 5, uint64(s.FirstCreated))
	b = appendString(b, 6, s.PubStatus)
	b = appendVarint(b, 7, i32(s.Urgency))
	b = appendString(b, 8, s.Language)
	b = appendString(b, 9, s.Headline)
	b = appendString(b, 10, s.Slugline)
	b = appendString(b, 11, s.Byline)
	b = appendString(b, 12, s.Located)
	b = appendString(b, 13, s.BodyText)
	b = appendString(b, 14, s.EdNote)
	for _, p := range s.Place {
		if p != nil {
			b = appendMessage(b, 15, p.size(), p.append)
		}
	}
	for _, sub := range s.Subject {
		if sub != nil {
			b = appendMessage(b, 16, sub.size(), sub.append)
		}
	}
	if s.Dedupe != nil {
		b = appendMessage(b, 17, s.Dedupe.size(), s.Dedupe.append)
	}
	b = appendString(b, 18, s.Source)
	b = appendVarint(b, 19, uint64(s.Received))
	b = appendVarint(b, 20, s.IngestSeq)
	if s.Dateline != nil {
		b = appendMessage(b, 21, s.Dateline.size(), s.Dateline.append)
	}
	return b
}

// reader walks protobuf fields. Strings are cut from str, one copy of the
// whole input, so decoding allocates it once however many fields there are.
type reader struct {
	b   []byte
	str string
	off int
}

func (r *reader) varint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		return 0, errTruncated
	}
	r.off += n
	return v, nil
}

// field reads a field header.
func (r *reader) field() (num int, wt int, err error) {
	v, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	if v>>3 == 0 || v>>3 > math.MaxInt32 {
		return 0, 0, fmt.Errorf("bad field number %d", v>>3)
	}
	return int(v >> 3), int(v & 7), nil
}

// span reads a length-delimited field and returns its bounds.
func (r *reader) span() (int, int, error) {
	n, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	if n > uint64(len(r.b)-r.off) {
		return 0, 0, errTruncated
	}
	start := r.off
	r.off += int(n)
	return start, r.off, nil
}

func (r *reader) string(wt int) (string, error) {
	if wt != wireBytes {
		return "", fmt.Errorf("wire type %d for a string", wt)
	}
	s, e, err := r.span()
	if err != nil {
		return "", err
	}
	return r.str[s:e], nil
}

func (r *reader) uint(wt int) (uint64, error) {
	if wt != wireVarint {
		return 0, fmt.Errorf("wire type %d for a varint", wt)
	}
	return r.varint()
}

func (r *reader) skip(wt int) error {
	switch wt {
	case wireVarint:
		_, err := r.varint()
		return err
	case wireFixed64:
		if len(r.b)-r.off < 8 {
			return errTruncated
		}
		r.off += 8
	case wireBytes:
		_, _, err := r.span()
		return err
	case wireFixed32:
		if len(r.b)-r.off < 4 {
			return errTruncated
		}
		r.off += 4
	default:
		return fmt.Errorf("wire type %d", wt)
	}
	return nil
}

// sub returns a reader over a nested message.
func (r *reader) sub(wt int) (*reader, error) {
	if wt != wireBytes {
		return nil, fmt.Errorf("wire type %d for a message", wt)
	}
	s, e, err := r.span()
	if err != nil {
		return nil, err
	}
	return &reader{b: r.b[:e], str: r.str[:e], off: s}, nil
}

func (r *reader) more() bool { return r.off < len(r.b) }

func decodePlace(r *reader) (*Place, error) {
	p := new(Place)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		switch num {
		case 1:
			p.Name, err = r.string(wt)
		case 2:
			p.Scheme, err = r.string(wt)
		case 3:
			p.Code, err = r.string(wt)
		case 4:
			p.Rel, err = r.string(wt)
		case 5:
			var v uint64
			v, err = r.uint(wt)
			p.Relevance = int32(v)
		case 6:
			var sub *reader
			if sub, err = r.sub(wt); err == nil {
				p.Geometry, err = decodeGeometry(sub)
			}
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("place field %d: %w", num, err)
		}
	}
	return p, nil
}

func decodeSubject(r *reader) (*Subject, error) {
	s := new(Subject)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		switch num {
		case 1:
			s.Name, err = r.string(wt)
		case 2:
			s.Scheme, err = r.string(wt)
		case 3:
			s.Code, err = r.string(wt)
		case 4:
			var v uint64
			v, err = r.uint(wt)
			s.Relevance = int32(v)
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("subject field %d: %w", num, err)
		}
	}
	return s, nil
}

func decodeDedupe(r *reader) (*Dedupe, error) {
	d := new(Dedupe)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		switch {
		case num == 1:
			d.Status, err = r.string(wt)
		case num == 2:
			d.Of, err = r.string(wt)
		case num == 3 && wt == wireFixed64:
			if len(r.b)-r.off < 8 {
				return nil, errTruncated
			}
			d.Similarity = math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
			r.off += 8
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("dedupe field %d: %w", num, err)
		}
	}
	return d, nil
}

func decodeDateline(r *reader) (*Dateline, error) {
	d := new(Dateline)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		var v uint64
		switch num {
		case 1:
			d.Text, err = r.string(wt)
		case 2:
			v, err = r.uint(wt)
			d.Start = int32(v)
		case 3:
			v, err = r.uint(wt)
			d.End = int32(v)
		case 4:
			v, err = r.uint(wt)
			d.BodyStart = int32(v)
		case 5:
			d.Agency, err = r.string(wt)
		case 6:
			d.Date, err = r.string(wt)
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("dateline field %d: %w", num, err)
		}
	}
	return d, nil
}

// decodeStory parses the binary form. Unknown fields are skipped, so a
// reader survives fields added by a newer writer. The strings of the result
// are substrings of one copy of b, or, with owned, of b itself (no copy).
func decodeStory(b []byte, owned bool) (*Story, error) {
	str := ""
	if owned {
		str = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		str = string(b)
	}
	r := &reader{b: b, str: str}
	s := new(Story)
	for r.more() {
		num, wt, err := r.field()
		if err != nil {
			return nil, err
		}
		var v uint64
		switch num {
		case 1:
			s.URI, err = r.string(wt)
		case 2:
			s.Type, err = r.string(wt)
		case 3:
			s.Version, err = r.string(wt)
		case 4:
			v, err = r.uint(wt)
			s.VersionCreated = Time(v)
		case 5:
			v, err = r.uint(wt)
			s.FirstCreated = Time(v)
		case 6:
			s.PubStatus, err = r.string(wt)
		case 7:
			v, err = r.uint(wt)
			s.Urgency = int32(v)
		case 8:
			s.Language, err = r.string(wt)
		case 9:
			s.Headline, err = r.string(wt)
		case 10:
			s.Slugline, err = r.string(wt)
		case 11:
			s.Byline, err = r.string(wt)
		case 12:
			s.Located, err = r.string(wt)
		case 13:
			s.BodyText, err = r.string(wt)
		case 14:
			s.EdNote, err = r.string(wt)
		case 15, 16, 17, 21:
			var sub *reader
			if sub, err = r.sub(wt); err == nil {
				switch num {
				case 15:
					var p *Place
					if p, err = decodePlace(sub); err == nil {
						s.Place = append(s.Place, p)
					}
				case 16:
					var x *Subject
					if x, err = decodeSubject(sub); err == nil {
						s.Subject = append(s.Subject, x)
					}
				case 17:
					s.Dedupe, err = decodeDedupe(sub)
				case 21:
					s.Dateline, err = decodeDateline(sub)
				}
			}
		case 18:
			s.Source, err = r.string(wt)
		case 19:
			v, err = r.uint(wt)
			s.Received = Time(v)
		case 20:
			s.IngestSeq, err = r.uint(wt)
		default:
			err = r.skip(wt)
		}
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", num, err)
		}
	}
	return s, nil
}
