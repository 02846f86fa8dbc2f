package proto_test

import (
	stdjson "encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
)

func TestCheckJSONDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, given string
		ok          bool
	}{
		{"flat", `{"uri":"a","place":[{"code":"UZ"}]}`, true},
		{"at the limit", nest(4), true},
		{"over", nest(5), false},
		{"objects count", `{"a":{"b":{"c":{"d":{}}}}}`, false},
		{"brackets in strings", `{"a":"[[[[[[[[{{{{{{"}`, true},
		{"escaped quote in a string", `{"a":"\"[[[[[[[[\\"}`, true},
		{"backslash before the closing quote", `{"a":"x\\"}` + nest(5), false},
		{"escaped backslash then a quote", `["\\\"[[[[[["]`, true},
		{"unterminated string", `["[[[[[[[[`, true},
		{"closing more than opened", `]]]]]]` + nest(4), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := proto.CheckJSONDepth([]byte(tt.given), 4)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckJSONDepth(%s, 4) = %v", tt.given, err)
			}
			if err != nil && err.Error() != "nesting deeper than 4" {
				t.Errorf("reason %q", err)
			}
		})
	}
}

// Anyone may publish JSON to a stage's subject: UnmarshalJSON checks the
// nesting before decoding, so a deep document is an error, not a stack
// overflow.
func TestUnmarshalJSONTooDeep(t *testing.T) {
	n := 1_000_000
	b := []byte(`{"uri":"u","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	_, err := proto.UnmarshalJSON(b)
	if !errors.Is(err, proto.ErrDecode) || !strings.Contains(err.Error(), "nesting deeper than 64") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzCheckJSONDepth checks the token-level depth against the nesting the
// standard library's tokenizer sees, on any valid JSON; on other input it
// must only not panic.
func FuzzCheckJSONDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"[["}]}`, `[[[[[[[[[]]]]]]]]]`, `"\\"`, `{"a":"\"{{{{{{{{{{"}`, `[`, `]`, `"`, `{"x":[[[[[[[[[["\u005b"]]]]]]]]]]}`} {
		f.Add([]byte(s))
	}
	const limit = 8
	f.Fuzz(func(t *testing.T, b []byte) {
		err := proto.CheckJSONDepth(b, limit)
		if !stdjson.Valid(b) {
			return
		}
		d := stdjson.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber() // a number like 1E700 is valid JSON, not a float64 (found by the fuzzer)
		depth, deepest := 0, 0
		for {
			tok, terr := d.Token()
			if terr == io.EOF {
				break
			}
			if terr != nil {
				t.Fatalf("valid JSON, tokenizer error %v", terr)
			}
			switch tok {
			case stdjson.Delim('['), stdjson.Delim('{'):
				depth++
				deepest = max(deepest, depth)
			case stdjson.Delim(']'), stdjson.Delim('}'):
				depth--
			}
		}
		if (err == nil) != (deepest <= limit) {
			t.Fatalf("nesting %d, CheckJSONDepth(%d) = %v", deepest, limit, err)
		}
	})
}
