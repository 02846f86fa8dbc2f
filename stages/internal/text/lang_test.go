package text_test

import (
	"strings"
	"testing"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

func TestDetectLanguage(t *testing.T) {
	cases := []struct{ name, headline, body, want string }{
		{"english", "Turkey's parliament approves budget", "ANKARA, Turkey (AP) — Turkey's parliament approved a new budget on Wednesday after a marathon session, with opposition lawmakers walking out before the final vote.", "en"},
		{"french", "Le Parlement adopte le budget", "PARIS, 3 mars 2024 (AFP) - Le Parlement a adopté mardi le budget de l'État pour l'année prochaine, après des semaines de débats, selon les chiffres publiés par le ministère.", "fr"},
		{"spanish", "El Congreso aprueba los presupuestos", "Madrid, 3 mar (EFE).- El Congreso aprobó este martes los presupuestos generales del Estado para el año próximo, tras semanas de debate, según informó el Gobierno.", "es"},
		{"german", "Bundestag beschließt den Haushalt", "Berlin (dpa) - Der Bundestag hat am Dienstag den Haushalt für das kommende Jahr beschlossen. Die Opposition stimmte nicht zu, wie das Parlament mitteilte.", "de"},
		{"too short", "Breaking", "Quake.", ""},
		{"no text", "", "", ""},
	}
	for _, c := range cases {
		if got := textkit.DetectLanguage(c.headline, c.body); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzDetectLanguage(f *testing.F) {
	f.Add("Le Parlement", "PARIS (AFP) - Le Parlement a adopté le budget.")
	f.Add("", "\xff\xfe der die das")
	f.Fuzz(func(t *testing.T, h, b string) {
		got := textkit.DetectLanguage(h, b)
		if got != "" && got != "en" && got != "fr" && got != "es" && got != "de" {
			t.Fatalf("DetectLanguage gave %q", got)
		}
		if c, ref := textkit.DetectCounts(h, b), textkit.DetectCountsRef(h, b); c != ref {
			t.Fatalf("counts %v, reference %v", c, ref)
		}
	})
}

func TestDatelinesInOtherLanguages(t *testing.T) {
	for body, want := range map[string]string{
		"PARIS, 3 mars 2024 (AFP) - Le président":        "PARIS",
		"TOKYO, 1er janvier 2024 (AFP) - Un séisme":      "TOKYO",
		"Madrid, 3 mar (EFE).- El presidente":            "Madrid",
		"Santiago de Chile, 5 feb (EFE).- Los incendios": "Santiago de Chile",
		"Berlin, 3. März (dpa) - Die Regierung":          "Berlin",
		"Washington (dpa/AFP) - Der Präsident":           "Washington",
		"Frankfurt/Main (dpa) - Die Deutsche Bank":       "Frankfurt/Main",
	} {
		d, ok := textkit.ParseDateline(body)
		if !ok || d.Text != want {
			t.Errorf("%q: dateline %+v %v, want place %q", body, d, ok, want)
		}
	}
}

// TestDetectLanguageSameAsBefore checks that DetectLanguage counts the same
// function words as the reference (the map-based version it replaced) on
// every story text of testdata, at many offsets and cut lengths (so that
// the 2,000-byte cut falls inside words and runes), and on odd inputs.
func TestDetectLanguageSameAsBefore(t *testing.T) {
	texts := append(testdataBodies(t),
		"", "a", "É", "ÉTÉ ÉTAIT Été été", "İstanbul İİİ ǅemal", "ẞ STRASSE Straße", "\xff\xfeder die das",
		"DER DIE DAS und UND Und", "café1le2les3des", "Miércoles MIÉRCOLES también TAMBIÉN según",
		strings.Repeat("tras ", 10), strings.Repeat("x", 30)+" the "+strings.Repeat("é", 13)+" le",
		"ǈubljana ﬁnal ﬂoor les ΑΘΗΝΑ Αθήνα and the of", "le×les der÷die ÉTAIT×été ÜBER Für MÁS",
		"l\u00e9\u0301t\u00e9 KANN \u212aann \u212aANN")
	n := 0
	for _, s := range texts {
		for off := 0; off < len(s); off += 1 + len(s)/6 {
			for _, cut := range []int{1999, 2001, len(s)} {
				body := s[off:min(len(s), off+cut)]
				head := s[:min(len(s), off%120)]
				n++
				if got, want := textkit.DetectCounts(head, body), textkit.DetectCountsRef(head, body); got != want {
					t.Fatalf("counts %v, reference %v for headline %q body %q", got, want, head, body)
				}
				if got, want := textkit.DetectLanguage(head, body), textkit.DetectLanguageRef(head, body); got != want {
					t.Fatalf("%q, reference %q for headline %q body %q", got, want, head, body)
				}
			}
		}
	}
	if n < 5000 {
		t.Fatalf("only %d texts compared", n)
	}
}

// BenchmarkDetectLanguage detects the language of 2 KB or more of story
// text per language (what the tag stage reads), against the reference.
func BenchmarkDetectLanguage(b *testing.B) {
	texts := map[string]string{
		"en": strings.Repeat("Turkey's parliament approved a new budget on Wednesday after a marathon session, with opposition lawmakers walking out before the final vote. ", 16),
		"fr": strings.Repeat("Le Parlement a adopté mardi le budget de l'État pour l'année prochaine, après des semaines de débats, selon les chiffres publiés par le ministère. ", 16),
		"de": strings.Repeat("Der Bundestag hat am Dienstag den Haushalt für das kommende Jahr beschlossen. Die Opposition stimmte nicht zu, wie das Parlament mitteilte. ", 16),
	}
	for _, lang := range []string{"en", "fr", "de"} {
		for _, impl := range []struct {
			name string
			fn   func(h, b string) string
		}{{"new", textkit.DetectLanguage}, {"ref", textkit.DetectLanguageRef}} {
			b.Run(lang+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if impl.fn("Headline", texts[lang]) != lang {
						b.Fatal("wrong language")
					}
				}
			})
		}
	}
}
