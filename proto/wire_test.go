package proto_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"testing"
	"unsafe"

	pb "github.com/segmentio/encoding/proto"

	"github.com/wirestream/wirestream/proto"
)

// The hand-written codec and segmentio/encoding/proto's reflective one
// (driven by the struct tags, which story.proto mirrors) read each other's
// bytes. (Field order on the wire may differ; protobuf allows any order.)
func TestProtoMatchesTagEncoding(t *testing.T) {
	small := []*proto.Story{sampleStory(), {URI: "u"}, {URI: "u", Urgency: -1, Dedupe: &proto.Dedupe{Status: "new"}},
		{URI: "u", BodyText: "x KYIV, Ukraine, 2022 (AP) — y", Dateline: &proto.Dateline{Text: "KYIV, Ukraine", Start: 2, End: 15, BodyStart: 30, Agency: "AP", Date: "2022"}},
		{URI: "u", Dateline: &proto.Dateline{Text: "PARIS", End: 5, BodyStart: 35, Agency: "AFP", Date: "16 September"}}}
	big := sampleStory()
	for i := 0; i < 30; i++ {
		big.Place = append(big.Place, &proto.Place{Name: fmt.Sprint("p", i), Scheme: proto.SchemeCountry, Code: "UZ", Relevance: int32(i)})
		big.Subject = append(big.Subject, &proto.Subject{Name: fmt.Sprint("s", i), Code: "medtop:11000000", Relevance: int32(i)})
	}
	for i, s := range append(small, big) {
		theirs, err := pb.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := proto.MarshalProto(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(ours) != len(theirs) {
			t.Errorf("story %d: %d bytes, the tag encoding gives %d", i, len(ours), len(theirs))
		}
		got, err := proto.UnmarshalProto(theirs)
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("story %d: decoding the tag encoding: %v (equal %v)", i, err, reflect.DeepEqual(got, s))
		}
		got, err = proto.UnmarshalProto(ours)
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("story %d: round trip: %v", i, err)
		}
		if i < len(small) { // segmentio's decoder breaks past ten repeated elements
			var back proto.Story
			if err := pb.Unmarshal(ours, &back); err != nil || !reflect.DeepEqual(&back, s) {
				t.Errorf("story %d: the tag decoder reads our bytes differently: %v", i, err)
			}
		}
	}
}

func TestUnmarshalProtoRejectsGarbage(t *testing.T) {
	good, _ := proto.MarshalProto(sampleStory())
	for i, b := range [][]byte{good[:len(good)/2], {0x0a, 0xff}, {0x00}, {0x7a, 0x05, 0x01}} {
		if _, err := proto.UnmarshalProto(b); err == nil {
			t.Errorf("case %d decoded without error", i)
		}
	}
}

// FuzzUnmarshalProto: any input decodes or fails cleanly, and what decodes
// re-encodes to something that decodes to the same story.
func FuzzUnmarshalProto(f *testing.F) {
	good, _ := proto.MarshalProto(sampleStory())
	f.Add(good)
	f.Add([]byte{0x0a, 0x01, 'u'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := proto.UnmarshalProto(b)
		owned, oerr := proto.UnmarshalProtoOwned(append([]byte(nil), b...))
		if (err == nil) != (oerr == nil) || err == nil && !reflect.DeepEqual(s, owned) {
			t.Fatalf("owned decoding differs: %v / %v", err, oerr)
		}
		if err != nil {
			return
		}
		again, err := proto.MarshalProto(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := proto.UnmarshalProto(again)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("re-encoding changed the story: %v", err)
		}
	})
}

// UnmarshalProtoOwned decodes as UnmarshalProto does, with the strings
// pointing into the input instead of a copy of it.
func TestUnmarshalProtoOwned(t *testing.T) {
	b, err := proto.MarshalProto(sampleStory())
	if err != nil {
		t.Fatal(err)
	}
	want, err := proto.UnmarshalProto(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := proto.UnmarshalProtoOwned(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("owned decode %+v, want %+v", got, want)
	}
	inside := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(b))
	}
	if !inside(got.BodyText) || !inside(got.URI) {
		t.Error("owned decode copied the strings")
	}
	if inside(want.BodyText) {
		t.Error("UnmarshalProto shares the caller's buffer")
	}
}

// A proto3 writer packs repeated doubles by default: the decoder reads that
// form of Geometry.coordinates too, and refuses a packed run that is not a
// whole number of doubles.
func TestGeometryPackedCoordinates(t *testing.T) {
	// Story{place: [Place{geometry_geojson: {type: "Point", coordinates: packed [1.5, -2]}}]}
	geom := []byte{0x0a, 5, 'P', 'o', 'i', 'n', 't', 0x12, 16}
	geom = binary.LittleEndian.AppendUint64(geom, math.Float64bits(1.5))
	geom = binary.LittleEndian.AppendUint64(geom, math.Float64bits(-2))
	place := append([]byte{0x32, byte(len(geom))}, geom...)
	story := append([]byte{0x0a, 1, 'u', 0x7a, byte(len(place))}, place...)
	s, err := proto.UnmarshalProto(story)
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Place[0].Geometry; g == nil || g.Type != "Point" || !reflect.DeepEqual(g.Coordinates, []float64{1.5, -2}) {
		t.Fatalf("geometry = %+v", s.Place[0].Geometry)
	}
	bad := append([]byte{}, story...)
	bad[len(bad)-17] = 15 // packed length no longer a multiple of 8
	if _, err := proto.UnmarshalProto(bad); err == nil {
		t.Fatal("packed doubles of 15 bytes decoded without error")
	}
}
