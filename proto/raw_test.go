package proto_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// What a publisher writes with RawMeta.Header, ParseRawMeta reads back.
func TestRawMetaRoundTrip(t *testing.T) {
	for _, m := range []proto.RawMeta{
		{Format: "ninjs", Source: "ap", Origin: "wire.jsonl:12", Received: proto.Time(1_700_000_000_123_456_789), Replay: "trial", Seq: 7},
		{Source: "cli", Seq: 1, Received: 5},
	} {
		got := proto.ParseRawMeta(m.Header(), "ws.raw.other", m.Seq, time.Time{})
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, m)
		}
	}
}

// A message without wirestream's headers (published by another client) gets
// its source from the subject and its arrival from the stream's timestamp.
func TestParseRawMetaDefaults(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	got := proto.ParseRawMeta(nil, "ws.raw.afp", 9, at)
	want := proto.RawMeta{Source: "afp", Seq: 9, Received: proto.FromTime(at)}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	bad := map[string][]string{proto.HeaderReceived: {"yesterday"}}
	if got := proto.ParseRawMeta(bad, "ws.raw.afp", 9, at); got.Received != proto.FromTime(at) {
		t.Errorf("an unreadable Ws-Received: received %v, want the stream's time", got.Received)
	}
	if h := (proto.RawMeta{}).Header(); len(h) != 0 {
		t.Errorf("empty meta gives headers %v", h)
	}
}

// One namespace, however it is spelt: the streams are upper case, so the
// subjects must not differ by case or by '-' and '_' (replay --into ARCH1
// then tail --namespace arch1 read the same stories).
func TestNamespaceSpellings(t *testing.T) {
	a, err := proto.Namespace("Arch-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"arch-1", "ARCH_1", "arch_1"} {
		b, err := proto.Namespace(other)
		if err != nil || b != a {
			t.Errorf("Namespace(%q) = %+v, %v; want %+v", other, b, err, a)
		}
	}
	if a.Prefix != "ws.ns.arch_1" || a.StreamPrefix != "WS_NS_ARCH_1" {
		t.Errorf("names %+v", a)
	}
}
