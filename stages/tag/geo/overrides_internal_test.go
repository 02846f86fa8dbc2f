package geo

import (
	"errors"
	"strings"
	"testing"
)

// The overrides file is reviewed text: an entry without its comment, with
// the wrong number of fields or naming an unknown country must not load.
func TestParseOverrides(t *testing.T) {
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"commented entry", "alias | GB | Britain   # wire name\n", true},
		{"comment lines and blanks", "# header\n\n# another\n", true},
		{"no comment", "alias | GB | Britain\n", false},
		{"empty comment", "alias | GB | Britain   #   \n", false},
		{"too few fields", "alias | GB   # reason\n", false},
		{"unknown directive", "nickname | GB | Blighty   # reason\n", false},
		{"empty field", "alias |  | Britain   # reason\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOverrides(tt.text)
			if (err == nil) != tt.ok {
				t.Fatalf("parseOverrides(%q) error = %v, want ok=%v", tt.text, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrOverrides) {
				t.Fatalf("error %v does not wrap ErrOverrides", err)
			}
		})
	}
}

func TestLoadRejectsBadOverrides(t *testing.T) {
	for _, extra := range []string{
		"alias | ZZ | Zedland   # unknown country\n",
		"m49 | UZ | 999   # unknown region\n",
		"ambiguous | Foo | UZ,ZZ   # unknown country\n",
		"alias | GB | Blighty\n",
	} {
		if _, err := load(gazetteerTSV, overridesTXT+extra); !errors.Is(err, ErrOverrides) {
			t.Errorf("load with %q: error %v, want ErrOverrides", strings.TrimSpace(extra), err)
		}
	}
	if _, err := load("C\tUZ\n", ""); !errors.Is(err, ErrData) {
		t.Errorf("load of a malformed data file: error %v, want ErrData", err)
	}
}
