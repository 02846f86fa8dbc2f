package geo_test

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

func TestResolveRegion(t *testing.T) {
	g := loadGazetteer(t)
	tests := []struct {
		in, token, name string
		ok              bool
	}{
		{"UZ", "UZ", "Uzbekistan", true},
		{"uz", "UZ", "Uzbekistan", true},
		{"Uzbekistan", "UZ", "Uzbekistan", true},
		{"  uzbekistan ", "UZ", "Uzbekistan", true},
		{"143", "143", "Central Asia", true},
		{"central-asia", "143", "Central Asia", true},
		{"Central Asia", "143", "Central Asia", true},
		{"central_asia", "143", "Central Asia", true},
		{"asia", "142", "Asia", true},
		{"2", "002", "Africa", true},
		{"002", "002", "Africa", true},
		{"europe", "150", "Europe", true},
		{"Ivory Coast", "CI", "Ivory Coast", true},
		{"Côte d'Ivoire", "CI", "Ivory Coast", true},
		{"Burma", "MM", "Myanmar", true},
		{"Turkey", "TR", "Türkiye", true},
		{"sub-saharan-africa", "202", "Sub-Saharan Africa", true},
		{"ZZ", "", "", false},
		{"999", "", "", false},
		{"Atlantis", "", "", false},
		{"", "", "", false},
		{"Congo", "", "", false}, // two countries: the user must say which
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			token, name, ok := g.ResolveRegion(tt.in)
			if token != tt.token || name != tt.name || ok != tt.ok {
				t.Errorf("ResolveRegion(%q) = (%q, %q, %v), want (%q, %q, %v)", tt.in, token, name, ok, tt.token, tt.name, tt.ok)
			}
		})
	}
}

func TestRollup(t *testing.T) {
	g := loadGazetteer(t)
	tests := []struct {
		cc   string
		want string
	}{
		{"UZ", "143 142"},
		{"KZ", "143 142"},
		{"RU", "151 150"},
		{"NG", "011 202 002"},
		{"BR", "005 419 019"},
		{"US", "021 019"},
		{"TW", "030 142"},
		{"XK", "039 150"},
		{"AU", "053 009"},
	}
	for _, tt := range tests {
		t.Run(tt.cc, func(t *testing.T) {
			if got := strings.Join(g.Rollup(tt.cc), " "); got != tt.want {
				t.Errorf("Rollup(%s) = %q, want %q", tt.cc, got, tt.want)
			}
		})
	}
}

func TestEveryCountryRollsUp(t *testing.T) {
	g := loadGazetteer(t)
	// Every UN member must reach a continent-level region.
	for _, cc := range []string{"AF", "AO", "AR", "BD", "BO", "CD", "CG", "CI", "DE", "EG", "FJ", "GE", "IN", "JO", "KP", "KR", "MM", "MX", "NE", "NZ", "PS", "SS", "TD", "TL", "TR", "UA", "VA", "ZW"} {
		chain := g.Rollup(cc)
		if len(chain) < 2 {
			t.Errorf("Rollup(%s) = %v, want a subregion and a region", cc, chain)
			continue
		}
		last := chain[len(chain)-1]
		switch last {
		case "002", "009", "019", "142", "150":
		default:
			t.Errorf("Rollup(%s) ends in %s, not a continent-level region", cc, last)
		}
	}
}

// TestDateline resolves datelines the way a story reaches the tagger: the
// grammar (stages/internal/text) runs at ingest, the tagger resolves the
// located field it fills and gives the dateline as evidence.
func TestDateline(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	tests := []struct {
		name, body     string
		text, cc, rule string
		ok             bool
		restStartsWith string
	}{
		{"day-month date", "PARIS, 16 September (AFP) - President", "PARIS", "FR", "standalone", true, "President"},
		{"year", "KYIV, Ukraine, 2022 (AP) — Russian", "KYIV, Ukraine", "UA", "qualified-city", true, "Russian"},
		{"ap city country", "SAMARKAND, Uzbekistan (AP) — Russian President", "SAMARKAND, Uzbekistan", "UZ", "qualified-city", true, "Russian"},
		{"ap standalone US", "ATLANTA (AP) — Georgia's", "ATLANTA", "US", "standalone", true, "Georgia"},
		{"ap state abbrev", "CORNING, N.Y. (AP) — Corning Inc.", "CORNING, N.Y.", "US", "qualified-city", true, "Corning Inc."},
		{"ap Ill.", "SPRINGFIELD, Ill. (AP) — Lawmakers", "SPRINGFIELD, Ill.", "US", "qualified-city", true, "Lawmakers"},
		{"ap Calif.", "SACRAMENTO, Calif. (AP) — x", "SACRAMENTO, Calif.", "US", "qualified-city", true, "x"},
		{"ap Ga.", "SAVANNAH, Ga. (AP) — x", "SAVANNAH, Ga.", "US", "qualified-city", true, "x"},
		{"ap N.M.", "SANTA FE, N.M. (AP) — x", "SANTA FE, N.M.", "US", "qualified-city", true, "x"},
		{"unknown town known state", "SMALLVILLEBURG, Kan. (AP) — x", "SMALLVILLEBURG, Kan.", "US", "qualifier", true, "x"},
		{"reuters date", "LONDON, Sept 16 (Reuters) - British retail", "LONDON", "GB", "standalone", true, "British"},
		{"reuters qualifier and date", "BOISE, Idaho, Dec 30 (Reuters) - Police", "BOISE, Idaho", "US", "qualified-city", true, "Police"},
		{"reuters Congo qualifier", "GOMA, Congo, Feb 7 (Reuters) - Fighting", "GOMA, Congo", "CD", "qualified-city", true, "Fighting"},
		{"brazzaville Congo qualifier", "BRAZZAVILLE, Congo (AP) — x", "BRAZZAVILLE, Congo", "CG", "qualified-city", true, "x"},
		{"afp", "Paris (AFP) - France will", "Paris", "FR", "standalone", true, "France"},
		{"afp date", "CAIRO, July 18 (AFP) - President", "CAIRO", "EG", "standalone", true, "President"},
		{"bare dash", "LONDON, Sept 16 - Shares fell", "LONDON", "GB", "standalone", true, "Shares"},
		{"em dash no agency", "SAMARKAND, Uzbekistan — Leaders met", "SAMARKAND, Uzbekistan", "UZ", "qualified-city", true, "Leaders"},
		{"sydney bare", "SYDNEY (AP) — x", "SYDNEY", "AU", "standalone", true, "x"},
		{"sydney nova scotia", "SYDNEY, Nova Scotia (AP) — x", "SYDNEY, Nova Scotia", "CA", "qualified-city", true, "x"},
		{"paris texas", "PARIS, Texas (AP) — x", "PARIS, Texas", "US", "qualified-city", true, "x"},
		{"london ontario", "LONDON, Ontario (AP) — x", "LONDON, Ontario", "CA", "qualified-city", true, "x"},
		{"tbilisi georgia", "TBILISI, Georgia (AP) — x", "TBILISI, Georgia", "GE", "qualified-city", true, "x"},
		{"athens georgia", "ATHENS, Georgia (AP) — x", "ATHENS, Georgia", "US", "qualified-city", true, "x"},
		{"athens bare", "ATHENS (AP) — x", "ATHENS", "GR", "city", true, "x"},
		{"accented", "BRASÍLIA, Jan 30 (Reuters) - x", "BRASÍLIA", "BR", "city", true, "x"},
		{"unaccented", "SAO PAULO (AP) — x", "SAO PAULO", "BR", "standalone", true, "x"},
		{"old name", "RANGOON, Burma (AP) — x", "RANGOON, Burma", "MM", "qualified-city", true, "x"},
		{"apostrophe", "N'Djamena (AFP) - x", "N'Djamena", "TD", "city", true, "x"},
		{"saint", "ST. LOUIS (AP) — x", "ST. LOUIS", "US", "standalone", true, "x"},
		{"hyphenated city", "PORT-OF-SPAIN, Trinidad (AP) — x", "PORT-OF-SPAIN, Trinidad", "TT", "qualified-city", true, "x"},
		{"san jose costa rica", "SAN JOSE, Costa Rica (AP) — x", "SAN JOSE, Costa Rica", "CR", "qualified-city", true, "x"},
		{"san jose calif", "SAN JOSE, Calif. (AP) — x", "SAN JOSE, Calif.", "US", "qualified-city", true, "x"},
		{"st petersburg russia", "ST. PETERSBURG, Russia (AP) — x", "ST. PETERSBURG, Russia", "RU", "qualified-city", true, "x"},
		{"st petersburg fla", "ST. PETERSBURG, Fla. (AP) — x", "ST. PETERSBURG, Fla.", "US", "qualified-city", true, "x"},
		{"hamilton bermuda", "HAMILTON, Bermuda (AP) — x", "HAMILTON, Bermuda", "BM", "qualified-city", true, "x"},
		{"hamilton ontario", "HAMILTON, Ontario (AP) — x", "HAMILTON, Ontario", "CA", "qualified-city", true, "x"},
		{"xinhua", "BEIJING, Sept. 16 (Xinhua) -- China said", "BEIJING", "CN", "standalone", true, "China"},
		{"english exonym", "Cologne (AFP) - Police said", "Cologne", "DE", "city", true, "Police"},
		{"no place words", "ABOARD AIR FORCE ONE (AP) — x", "", "", "", false, ""},
		{"no dateline", "Russia said on Monday that it would", "", "", "", false, ""},
		{"sentence with dash", "Russia said on Monday - in a statement", "", "", "", false, ""},
		{"unknown place", "XYZZYVILLE (AP) — x", "", "", "", false, ""},
		{"empty", "", "", "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ingested(&proto.Story{URI: "u", BodyText: tt.body})
			ex := p.Explain(s)
			var got *geo.Explained
			for i := range ex {
				if ex[i].Place.Rel == proto.RelLocated && ex[i].Place.Scheme == proto.SchemeCountry {
					got = &ex[i]
				}
			}
			if (got != nil) != tt.ok {
				t.Fatalf("%q: located %+v, want ok %v (located field %q)", tt.body, got, tt.ok, s.Located)
			}
			if !tt.ok {
				return
			}
			e := got.Evidence[0]
			if got.Place.Code != tt.cc || e.Text != tt.text || e.Rule != "dateline:"+tt.rule || e.Field != geo.FieldBody {
				t.Errorf("%q: located %s by %+v, want %s %q dateline:%s", tt.body, got.Place.Code, e, tt.cc, tt.text, tt.rule)
			}
			if s.BodyText[e.Start:e.End] != e.Text {
				t.Errorf("offsets %d-%d give %q, want %q", e.Start, e.End, s.BodyText[e.Start:e.End], e.Text)
			}
			if rest := s.BodyText[s.Dateline.BodyStart:]; !strings.HasPrefix(rest, tt.restStartsWith) {
				t.Errorf("body after dateline = %q, want it to start with %q", rest, tt.restStartsWith)
			}
		})
	}
}

func TestLocatedField(t *testing.T) {
	g := loadGazetteer(t)
	tests := []struct{ in, cc string }{
		{"SAMARKAND, Uzbekistan", "UZ"},
		{"CORNING, N.Y.", "US"},
		{"Washington", "US"},
		{"PARIS", "FR"},
		{"PARIS, Texas", "US"},
		{"Kyiv", "UA"},
		{"KIEV, Ukraine", "UA"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, ok := g.ParseLocated(tt.in)
			if !ok || d.Country != tt.cc {
				t.Errorf("ParseLocated(%q) = %+v, %v; want %s", tt.in, d, ok, tt.cc)
			}
		})
	}
}

// tag returns "located=XX countries=[...] regions=[...]" for compact checks.
func tagSummary(places []*proto.Place) string {
	var loc string
	var cs, rs []string
	for _, p := range places {
		switch p.Scheme {
		case proto.SchemeCountry:
			if p.Rel == proto.RelLocated {
				loc = p.Code
			}
			cs = append(cs, p.Code)
		case proto.SchemeM49:
			rs = append(rs, p.Code+":"+p.Rel)
		}
	}
	return fmt.Sprintf("located=%s countries=%v regions=%v", loc, cs, rs)
}

func TestTagDisambiguation(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	tests := []struct {
		name    string
		story   proto.Story
		want    []string // countries, any order
		notWant []string
		located string
	}{
		{"georgia state from a US dateline", proto.Story{BodyText: "ATLANTA (AP) — Georgia voters went to the polls."}, []string{"US"}, []string{"GE"}, "US"},
		{"georgia country from context", proto.Story{BodyText: "MOSCOW (AP) — Russian troops in Georgia pulled back toward South Ossetia, officials in Tbilisi said."}, []string{"RU", "GE"}, []string{"US"}, "RU"},
		{"jordan the player", proto.Story{BodyText: "CHICAGO (AP) — Michael Jordan scored 40. Jordan also had 9 assists."}, []string{"US"}, []string{"JO"}, "US"},
		{"jordan the country", proto.Story{BodyText: "BEIRUT (AP) — Refugees fled to Jordan on Monday."}, []string{"LB", "JO"}, nil, "LB"},
		{"name with an age is a person", proto.Story{BodyText: "CHICAGO (AP) — Jordan, 23, was arrested. Police said Jordan had a gun."}, []string{"US"}, []string{"JO"}, "US"},
		{"weak name alone is the country", proto.Story{Headline: "Chad closes border", BodyText: "Chad has closed its border, officials said."}, []string{"TD"}, nil, ""},
		{"chad first name", proto.Story{BodyText: "DENVER (AP) — Chad Smith, the drummer, said Tuesday he would retire."}, []string{"US"}, []string{"TD"}, "US"},
		{"turkey the bird", proto.Story{Headline: "Turkey prices soar", BodyText: "CHICAGO (AP) — The price of a turkey rose 20 percent before Thanksgiving."}, []string{"US"}, nil, "US"},
		{"turkey the country", proto.Story{BodyText: "BERLIN (AP) — Germany and Turkey agreed on Tuesday to work together."}, []string{"DE", "TR"}, nil, "DE"},
		{"guinea pig", proto.Story{BodyText: "BOSTON (AP) — The guinea pig study was halted. A Guinea pig breeder objected."}, []string{"US"}, []string{"GN"}, "US"},
		{"new mexico", proto.Story{BodyText: "DENVER (AP) — Wildfires in New Mexico grew on Sunday."}, []string{"US"}, []string{"MX"}, "US"},
		{"niger not nigeria", proto.Story{BodyText: "PARIS (AP) — France said troops would leave Niger."}, []string{"FR", "NE"}, []string{"NG"}, "FR"},
		{"nigeria not niger", proto.Story{BodyText: "PARIS (AP) — France signed a trade deal with Nigeria."}, []string{"FR", "NG"}, []string{"NE"}, "FR"},
		{"congo default", proto.Story{BodyText: "NAIROBI, Kenya (AP) — Rebels in eastern Congo seized a town near Goma."}, []string{"KE", "CD"}, []string{"CG"}, "KE"},
		{"congo brazzaville", proto.Story{BodyText: "PARIS (AP) — Congo's president, speaking in Brazzaville, denied the claim."}, []string{"FR", "CG"}, []string{"CD"}, "FR"},
		{"washington metonym", proto.Story{BodyText: "BEIJING (AP) — China warned Washington on Monday."}, []string{"CN", "US"}, nil, "CN"},
		{"washington person", proto.Story{BodyText: "LONDON (AP) — Denzel Washington opened the festival."}, []string{"GB"}, []string{"US"}, "GB"},
		{"organisation", proto.Story{BodyText: "MOSCOW (AP) — The Shanghai Cooperation Organization met."}, []string{"RU"}, []string{"CN"}, "RU"},
		{"moscow idaho", proto.Story{BodyText: "BOISE, Idaho (AP) — Police in Moscow, Idaho, made an arrest."}, []string{"US"}, []string{"RU"}, "US"},
		{"unknown located gives no located country", proto.Story{Located: "UNITED NATIONS", BodyText: "NAIROBI, Kenya (AP) — Talks began in Kenya."}, []string{"KE"}, nil, ""},
		{"provider located wins over the dateline", proto.Story{Located: "Kyiv", BodyText: "NAIROBI, Kenya (AP) — Talks began."}, []string{"UA"}, []string{"KE"}, "UA"},
		{"day-month dateline", proto.Story{BodyText: "PARIS, 16 September (AFP) - President Emmanuel Macron spoke."}, []string{"FR"}, nil, "FR"},
		{"dateline with a year", proto.Story{BodyText: "KYIV, Ukraine, 2022 (AP) — Russian forces shelled the city."}, []string{"UA", "RU"}, nil, "UA"},
		{"located field wins", proto.Story{Located: "SAMARKAND, Uzbekistan", BodyText: "Leaders met."}, []string{"UZ"}, nil, "UZ"},
		{"all caps headline", proto.Story{Headline: "TURKEY AND SYRIA HIT BY QUAKE", BodyText: "ISTANBUL (AP) — A quake struck."}, []string{"TR", "SY"}, nil, "TR"},
		{"jersey city is not jersey", proto.Story{BodyText: "NEWARK, N.J. (AP) — Police in Jersey City made an arrest."}, []string{"US"}, []string{"JE"}, "US"},
		{"possessive state title", proto.Story{BodyText: "ROME (AP) — The pope met Jordan's King Abdullah."}, []string{"IT", "JO"}, nil, "IT"},
		{"language not country", proto.Story{BodyText: "MADRID (AP) — The king spoke in Catalan and Portuguese. A French-language paper agreed."}, []string{"ES"}, []string{"PT", "FR"}, "ES"},
		{"demonym adjective after in", proto.Story{BodyText: "LONDON (AP) — The tanker was seized in Iranian waters."}, []string{"GB", "IR"}, nil, "GB"},
		{"territory not a US state", proto.Story{BodyText: "MIAMI (AP) — Puerto Rico lost power."}, []string{"US", "PR"}, nil, "US"},
		{"stadium not a country", proto.Story{BodyText: "LONDON (AP) — Arsenal won at the Emirates Stadium."}, []string{"GB"}, []string{"AE"}, "GB"},
		{"same-name city by context", proto.Story{BodyText: "MADRID (AP) — Spain sweltered; Cordoba reached 44C."}, []string{"ES"}, []string{"AR"}, "ES"},
		{"no dateline", proto.Story{Headline: "Kenya and Uganda sign deal", BodyText: "Officials from both countries met on Monday."}, []string{"KE", "UG"}, nil, ""},
		{"food and idioms", proto.Story{BodyText: "DENVER (AP) — The diner served French toast, Brussels sprouts and Greek yogurt; a German shepherd slept by the door."}, []string{"US"}, []string{"FR", "BE", "GR", "DE"}, "US"},
		{"no places", proto.Story{BodyText: "The committee met on Tuesday and adjourned."}, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.story
			places := p.Tag(ingested(&s))
			loc, got := countries(places)
			if loc != tt.located {
				t.Errorf("located = %q, want %q (%s)", loc, tt.located, tagSummary(places))
			}
			have := map[string]bool{}
			for _, c := range got {
				have[c] = true
			}
			for _, c := range tt.want {
				if !have[c] {
					t.Errorf("missing %s (%s)", c, tagSummary(places))
				}
			}
			for _, c := range tt.notWant {
				if have[c] {
					t.Errorf("unexpected %s (%s)", c, tagSummary(places))
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("countries %v, want exactly %v", got, tt.want)
			}
		})
	}
}

func TestTagOrderAndRollups(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	s := ingested(&proto.Story{
		Headline: "Kyrgyz and Russian leaders meet",
		BodyText: "SAMARKAND, Uzbekistan (AP) — Kyrgyzstan's president met Russia's president. Kyrgyzstan said the talks went well. Brazil was not invited.",
	})
	places := p.Tag(s)
	if len(places) == 0 {
		t.Fatal("no places")
	}
	if places[0].Scheme != proto.SchemeCountry || places[0].Code != "UZ" || places[0].Rel != proto.RelLocated || places[0].Relevance != 100 {
		t.Fatalf("first place = %+v, want located UZ with relevance 100", places[0])
	}
	byCode := map[string]*proto.Place{}
	seenMentioned := false
	for i, pl := range places {
		if pl.Relevance < 0 || pl.Relevance > 100 {
			t.Errorf("%s relevance %d outside 0-100", pl.Code, pl.Relevance)
		}
		if pl.Rel == proto.RelMentioned {
			seenMentioned = true
		} else if seenMentioned {
			t.Errorf("located place %s after a mentioned one", pl.Code)
		}
		if i > 0 && pl.Rel == places[i-1].Rel && pl.Relevance > places[i-1].Relevance {
			t.Errorf("%s (relevance %d) after %s (relevance %d)", pl.Code, pl.Relevance, places[i-1].Code, places[i-1].Relevance)
		}
		if pl.Scheme == proto.SchemeM49 && len(pl.Code) != 3 {
			t.Errorf("M49 code %q is not three digits", pl.Code)
		}
		byCode[pl.Code] = pl
	}
	for code, rel := range map[string]string{"143": proto.RelLocated, "142": proto.RelLocated, "151": proto.RelMentioned, "150": proto.RelMentioned, "005": proto.RelMentioned, "419": proto.RelMentioned, "019": proto.RelMentioned} {
		pl, ok := byCode[code]
		if !ok {
			t.Errorf("region %s missing (%s)", code, tagSummary(places))
			continue
		}
		if pl.Rel != rel {
			t.Errorf("region %s rel %s, want %s", code, pl.Rel, rel)
		}
	}
	// A region's relevance is that of its best country.
	if byCode["151"].Relevance != byCode["RU"].Relevance {
		t.Errorf("Eastern Europe relevance %d, want Russia's %d", byCode["151"].Relevance, byCode["RU"].Relevance)
	}
	// Headline and repeated mentions rank above a single late mention.
	if !(byCode["KG"].Relevance > byCode["BR"].Relevance) {
		t.Errorf("KG %d should outrank BR %d", byCode["KG"].Relevance, byCode["BR"].Relevance)
	}
	if byCode["Central Asia"] != nil || byCode["143"].Name != "Central Asia" {
		t.Errorf("region name = %q", byCode["143"].Name)
	}
	// Deterministic.
	again := p.Tag(s)
	if tagSummary(again) != tagSummary(places) {
		t.Errorf("Tag is not deterministic: %s vs %s", tagSummary(again), tagSummary(places))
	}
	// The places pass the schema check.
	st := &proto.Story{URI: "x", Place: places}
	if err := st.Validate(); err != nil {
		t.Error(err)
	}
}

func TestRejected(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	s := ingested(&proto.Story{BodyText: "CHICAGO (AP) — Michael Jordan scored 41. Jordan added eight rebounds."})
	rej := p.Rejected(s)
	if len(rej) != 2 {
		t.Fatalf("Rejected = %+v, want two rejections", rej)
	}
	for i, want := range []string{"person", "weak-person"} {
		e := rej[i]
		if e.Rule != want || e.Text != "Jordan" || s.BodyText[e.Start:e.End] != e.Text || e.Field != geo.FieldBody {
			t.Errorf("rejection %d = %+v, want Jordan/%s", i, e, want)
		}
	}
	if got := p.Rejected(nil); got != nil {
		t.Errorf("Rejected(nil) = %v", got)
	}
}

func TestNilStory(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	if got := p.Tag(nil); got != nil {
		t.Errorf("Tag(nil) = %v", got)
	}
	if got := p.Explain(nil); got != nil {
		t.Errorf("Explain(nil) = %v", got)
	}
}

func TestExplain(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	s := ingested(&proto.Story{
		Headline: "Georgia lawmakers pass bill",
		BodyText: "ATLANTA (AP) — The Shanghai Cooperation Organization was not involved. Uzbek officials watched from Tashkent.",
	})
	ex := p.Explain(s)
	tags := p.Tag(s)
	if len(ex) != len(tags) {
		t.Fatalf("Explain gave %d places, Tag %d", len(ex), len(tags))
	}
	for i := range ex {
		if !reflect.DeepEqual(ex[i].Place, *tags[i]) {
			t.Errorf("place %d: Explain %+v, Tag %+v", i, ex[i].Place, *tags[i])
		}
		if len(ex[i].Evidence) == 0 {
			t.Errorf("%s has no evidence", ex[i].Place.Code)
		}
		for _, e := range ex[i].Evidence {
			var field string
			switch e.Field {
			case geo.FieldHeadline:
				field = s.Headline
			case geo.FieldBody:
				field = s.BodyText
			case geo.FieldLocated:
				field = s.Located
			case "":
				if !strings.HasPrefix(e.Rule, "rollup:") {
					t.Errorf("evidence without field: %+v", e)
				}
				continue
			}
			if e.Start < 0 || e.End > len(field) || e.Start > e.End || field[e.Start:e.End] != e.Text {
				t.Errorf("%s evidence %+v does not point at its text", ex[i].Place.Code, e)
			}
			if e.Rule == "" {
				t.Errorf("%s evidence %+v has no rule", ex[i].Place.Code, e)
			}
		}
	}
	if ex[0].Place.Code != "US" || ex[0].Evidence[0].Rule != "dateline:standalone" || ex[0].Evidence[0].Text != "ATLANTA" {
		t.Errorf("first explained place = %+v", ex[0])
	}
	// The located field is evidence in its own field.
	ls := ingested(&proto.Story{Located: " CORNING, N.Y.", BodyText: "CORNING, N.Y. (AP) — The museum reopened."})
	lex := p.Explain(ls)
	if len(lex) == 0 || lex[0].Place.Code != "US" || len(lex[0].Evidence) == 0 {
		t.Fatalf("Explain(located) = %+v", lex)
	}
	e := lex[0].Evidence[0]
	if e.Field != geo.FieldLocated || e.Rule != "located:qualified-city" || ls.Located[e.Start:e.End] != e.Text || e.Text != "CORNING, N.Y." {
		t.Errorf("located evidence = %+v", e)
	}
}

func TestConcurrentTag(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	stories := readLabelled(t)
	want := make([]string, len(stories))
	for i, l := range stories {
		want[i] = tagSummary(p.Tag(l.story()))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < 2; r++ {
				for i := range stories {
					j := (i + w) % len(stories)
					if got := tagSummary(p.Tag(stories[j].story())); got != want[j] {
						errs <- fmt.Errorf("%s: concurrent %s, sequential %s", stories[j].ID, got, want[j])
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGazetteerMemory measures the heap the gazetteer keeps alive.
func TestGazetteerMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, err := geo.Load()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("gazetteer live heap: %.1f MB", float64(live)/(1<<20))
	if live > 60<<20 {
		t.Errorf("gazetteer keeps %.1f MB live, limit 60 MB", float64(live)/(1<<20))
	}
	runtime.KeepAlive(g)
}
