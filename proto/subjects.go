package proto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadCode is returned for a region or topic code that names no subject.
var ErrBadCode = errors.New("proto: bad code")

// DefaultPrefix is the first token of every live subject.
const DefaultPrefix = "ws"

// Names is the one place where subject and stream names are made. The zero
// value is not usable: use Live() or Namespace(name).
//
//	<p>.raw.<source>        raw input as received (stream <S>_RAW, the history)
//	<p>.work.<stage>        a stage's output, the next stage's input (stream <S>_WORK, work queue)
//	<p>.work.<k>.<stage>    the same in partition k of P (stream <S>_WORK_<k>), when Partitions > 1
//	<p>.out.all             every enriched story, full ninjs JSON (stream <S>_OUT)
//	<p>.out.region.<code>   one notification per story per region node (stream <S>_OUT)
//	<p>.out.topic.<code>    one notification per story per topic node (stream <S>_OUT)
//	<p>.out.city.<id>       one notification per story per city node, GeoNames id (stream <S>_OUT)
//	<p>.audit.<status>      stories dedupe did not republish (stream <S>_AUDIT)
//	<p>.dlq.<stage>         dead letters, reason in headers (stream <S>_DLQ)
//
// <p> is "ws" for the live pipeline and "ws.ns.<name>" for a namespace;
// <S> is "WS" or "WS_NS_<NAME>".
type Names struct {
	Prefix       string
	StreamPrefix string
	// Partitions is how many partitions the work subjects are split into
	// (by a hash of the story's uri, PartitionOf), each with its own work
	// stream, so that on a cluster their leaders spread over the servers.
	// 0 or 1: one work stream, <S>_WORK, and no partition token.
	Partitions int
}

// MaxPartitions bounds Names.Partitions.
const MaxPartitions = 256

// WithPartitions returns n with its work subjects split into p partitions.
func (n Names) WithPartitions(p int) Names {
	n.Partitions = p
	return n
}

// Partitioned reports whether the work subjects are split into partitions.
func (n Names) Partitioned() bool { return n.Partitions > 1 }

// PartitionCount is the number of work partitions: at least 1.
func (n Names) PartitionCount() int { return max(n.Partitions, 1) }

// PartitionOf is the partition of a story's uri: FNV-1a (32 bits) of the
// uri modulo the partition count. Every version of a story has one uri, so
// one partition: its versions stay in one ordered stream.
func (n Names) PartitionOf(uri string) int {
	p := n.PartitionCount()
	if p == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(uri); i++ {
		h ^= uint32(uri[i])
		h *= 16777619
	}
	return int(h % uint32(p))
}

// WorkStreamOf is the work stream of partition k (<S>_WORK unpartitioned).
func (n Names) WorkStreamOf(k int) string {
	if !n.Partitioned() {
		return n.WorkStream()
	}
	return n.StreamPrefix + "_WORK_" + strconv.Itoa(k)
}

// WorkStreams are the work streams of every partition, in order.
func (n Names) WorkStreams() []string {
	out := make([]string, n.PartitionCount())
	for k := range out {
		out[k] = n.WorkStreamOf(k)
	}
	return out
}

// WorkOf is the subject carrying stage's output in partition k.
func (n Names) WorkOf(k int, stage string) string {
	if !n.Partitioned() {
		return n.Work(stage)
	}
	return n.Prefix + ".work." + strconv.Itoa(k) + "." + stage
}

// WorkAllOf matches every work subject of partition k.
func (n Names) WorkAllOf(k int) string {
	if !n.Partitioned() {
		return n.WorkAll()
	}
	return n.Prefix + ".work." + strconv.Itoa(k) + ".>"
}

// Live returns the names of the live pipeline.
func Live() Names { return Names{Prefix: DefaultPrefix, StreamPrefix: "WS"} }

// Namespace returns the names of an isolated namespace (used by replay
// --into NAME). An empty name is the live pipeline. Names are not case
// sensitive and '-' is '_' ("Trial-1" and "trial_1" are one namespace):
// stream names are upper case with '_', so two spellings must not make two
// sets of subjects over one set of streams.
func Namespace(name string) (Names, error) {
	if name == "" {
		return Live(), nil
	}
	if Token(name) != name {
		return Names{}, fmt.Errorf("%w: namespace %q may only use letters, digits, '-' and '_'", ErrBadCode, name)
	}
	name = strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	return Names{
		Prefix:       DefaultPrefix + ".ns." + name,
		StreamPrefix: "WS_NS_" + strings.ToUpper(name),
	}, nil
}

// Stream names.
func (n Names) RawStream() string   { return n.StreamPrefix + "_RAW" }
func (n Names) WorkStream() string  { return n.StreamPrefix + "_WORK" }
func (n Names) OutStream() string   { return n.StreamPrefix + "_OUT" }
func (n Names) AuditStream() string { return n.StreamPrefix + "_AUDIT" }
func (n Names) DLQStream() string   { return n.StreamPrefix + "_DLQ" }

// DedupeBucket is the KV bucket of the dedupe stage's uri records and
// content claims; DedupeLogStream the stream of its signature log.
func (n Names) DedupeBucket() string    { return n.StreamPrefix + "_DEDUPE" }
func (n Names) DedupeLogStream() string { return n.StreamPrefix + "_DEDUPE_LOG" }

// LeaseBucket is the KV bucket of the work partitions' leases: which
// process of a stage consumes which partition.
func (n Names) LeaseBucket() string { return n.StreamPrefix + "_LEASES" }

// Raw is the subject raw input from source is published on.
func (n Names) Raw(source string) string { return n.Prefix + ".raw." + Token(source) }

// RawAll matches every raw subject.
func (n Names) RawAll() string { return n.Prefix + ".raw.>" }

// Work is the subject carrying stage's output.
func (n Names) Work(stage string) string { return n.Prefix + ".work." + stage }

// WorkAll matches every work subject.
func (n Names) WorkAll() string { return n.Prefix + ".work.>" }

// OutAll carries every enriched story, once, as full ninjs JSON.
func (n Names) OutAll() string { return n.Prefix + ".out.all" }

// OutAny matches every output subject.
func (n Names) OutAny() string { return n.Prefix + ".out.>" }

// Region is the node subject of a region code (see RegionToken).
func (n Names) Region(token string) string { return n.Prefix + ".out.region." + token }

// Topic is the node subject of a topic code (see TopicToken).
func (n Names) Topic(token string) string { return n.Prefix + ".out.topic." + token }

// Audit is where dedupe sends stories it does not republish.
func (n Names) Audit(status string) string { return n.Prefix + ".audit." + status }

// AuditAll matches every audit subject.
func (n Names) AuditAll() string { return n.Prefix + ".audit.>" }

// DLQ is the dead-letter subject of a stage.
func (n Names) DLQ(stage string) string { return n.Prefix + ".dlq." + Token(stage) }

// City is the node subject of a city, by GeoNames id (see CityToken).
func (n Names) City(token string) string { return n.Prefix + ".out.city." + token }

// DLQAll matches every dead-letter subject.
func (n Names) DLQAll() string { return n.Prefix + ".dlq.>" }

// Token maps s to a single NATS subject token: letters, digits, '-' and '_'
// are kept, anything else becomes '_'. An empty s becomes "_".
func Token(s string) string {
	if s == "" {
		return "_"
	}
	ok := true
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i := range b {
		if !tokenByte(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// RegionToken normalises a region code to its subject token: an ISO 3166-1
// alpha-2 country code in upper case ("uz" → "UZ") or a UN M49 code as three
// digits ("2" → "002", "143" → "143"). Slugs such as "central-asia" are
// resolved by the gazetteer, not here.
func RegionToken(code string) (string, error) {
	c := strings.TrimSpace(code)
	switch {
	case len(c) == 2 && isAlpha(c):
		return strings.ToUpper(c), nil
	case len(c) >= 1 && len(c) <= 3 && isDigits(c):
		return strings.Repeat("0", 3-len(c)) + c, nil
	}
	return "", fmt.Errorf("%w: region %q is neither an ISO 3166-1 alpha-2 nor a UN M49 code", ErrBadCode, code)
}

// TopicToken normalises an IPTC Media Topic code to its subject token:
// "medtop:11000000" and "11000000" both give "11000000".
func TopicToken(code string) (string, error) {
	c := strings.TrimPrefix(strings.TrimSpace(code), SchemeMedTop+":")
	if len(c) == 8 && isDigits(c) {
		return c, nil
	}
	return "", fmt.Errorf("%w: topic %q is not a Media Topic code (medtop:NNNNNNNN)", ErrBadCode, code)
}

// PlaceToken is the region token of a place, or "" when the place is not a
// country or M49 region.
func PlaceToken(p *Place) string {
	if p == nil || (p.Scheme != SchemeCountry && p.Scheme != SchemeM49) {
		return ""
	}
	t, err := RegionToken(p.Code)
	if err != nil {
		return ""
	}
	return t
}

// CityToken normalises a GeoNames id to its subject token: digits only,
// leading zeros dropped ("1216265").
func CityToken(code string) (string, error) {
	c := strings.TrimLeft(strings.TrimSpace(code), "0")
	if c == "" || len(c) > 10 || !isDigits(c) {
		return "", fmt.Errorf("%w: city %q is not a GeoNames id", ErrBadCode, code)
	}
	return c, nil
}

// PlaceCityToken is the city token of a place, or "" when the place is not
// a GeoNames city.
func PlaceCityToken(p *Place) string {
	if p == nil || p.Scheme != SchemeGeoNames {
		return ""
	}
	t, err := CityToken(p.Code)
	if err != nil {
		return ""
	}
	return t
}

// SubjectToken is the topic token of a subject, or "" when it is not a
// Media Topic.
func SubjectToken(s *Subject) string {
	if s == nil || (s.Scheme != "" && s.Scheme != SchemeMedTop) {
		return ""
	}
	t, err := TopicToken(s.Code)
	if err != nil {
		return ""
	}
	return t
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
