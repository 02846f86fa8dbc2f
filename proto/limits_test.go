package proto_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
)

func TestLimits(t *testing.T) {
	if err := proto.DefaultLimits.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (proto.Limits{URIBytes: 99}).WithDefaults(); got.URIBytes != 99 || got.StoryBytes != proto.DefaultStoryBytes || got.BodyBytes != proto.DefaultBodyBytes {
		t.Errorf("WithDefaults = %+v", got)
	}
	for _, l := range []proto.Limits{{}, {StoryBytes: 10, URIBytes: 8, VersionBytes: 1, JSONDepth: 2, HeaderBytes: 64, InflatedBytes: 10, BodyBytes: 1}} {
		if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "Limits.") {
			t.Errorf("Validate(%+v) = %v, want the field named", l, err)
		}
	}
	l := proto.DefaultLimits
	for in, want := range map[string]string{
		"urn:x:1":                        "",
		strings.Repeat("u", 1025):        "uri too long: 1025 bytes, limit 1024",
		"urn:\x00":                       "uri has a control character at byte 4",
		"urn:é\u2067":                    "uri has a control character at byte 6",
		"urn:" + strings.Repeat("é", 20): "",
	} {
		err := l.CheckURI(in)
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("CheckURI(%.20q) = %v, want %q", in, err, want)
		}
	}
	if err := l.CheckVersion(strings.Repeat("1", 129)); err == nil || err.Error() != "version too long: 129 bytes, limit 128" {
		t.Errorf("CheckVersion: %v", err)
	}
}
