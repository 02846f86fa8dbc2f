package webhooks_test

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

// FuzzParse: any bytes as a webhooks file: Parse never panics, and every
// hook it accepts has a token name, an absolute http(s) URL, a secret and
// sane retry settings.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/webhooks.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("webhooks:\n  - {name: a, url: 'http://x/', secret: s, urgency: 3, status: [kill]}\n"))
	f.Add([]byte("webhooks: [&a {name: a}, *a]\n"))
	data := new(wiring.Data)
	env := func(k string) (string, bool) { return "v-" + k, !strings.HasPrefix(k, "UNSET") }
	f.Fuzz(func(t *testing.T, b []byte) {
		hooks, err := webhooks.Parse(b, data, proto.Live(), env)
		if err != nil {
			return
		}
		for _, h := range hooks {
			u, perr := url.Parse(h.URL)
			if proto.Token(h.Name) != h.Name || h.Name == "" || perr != nil || (u.Scheme != "http" && u.Scheme != "https") ||
				h.Secret == "" || h.MaxAttempts < 1 || h.Timeout <= 0 || h.BackoffMin <= 0 || h.BackoffMax < h.BackoffMin {
				t.Fatalf("accepted a bad hook %+v", h)
			}
			if err := h.Filter.Validate(); err != nil {
				t.Fatalf("accepted a bad filter: %v", err)
			}
		}
	})
}
