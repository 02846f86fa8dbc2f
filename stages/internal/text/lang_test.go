package text_test

import (
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
