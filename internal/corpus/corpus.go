// Package corpus generates synthetic wire stories for load tests, fault
// tests and benchmarks: distinct stories of a chosen size with datelines
// from every continent, several topics, and optionally a share of exact
// resends, write-thru updates and reformatted near copies. The text is
// assembled from templates written for this project; it reads like wire
// copy but describes nothing real.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// Kind says what a generated story is relative to the ones before it.
type Kind string

const (
	KindNew    Kind = "new"    // a distinct story
	KindResend Kind = "resend" // an exact retransmission of an earlier story
	KindUpdate Kind = "update" // a newer version of an earlier story
	KindNear   Kind = "near"   // an earlier story's text under another uri, reformatted
)

// Config shapes a corpus.
type Config struct {
	Stories int     // how many
	Size    int     // approximate body size in bytes (default 6000)
	Seed    uint64  // same seed, same corpus
	DupRate float64 // share of resends, updates and near copies (0 to 1), split evenly
	Prefix  string  // uri prefix (default "urn:corpus:")
	Start   time.Time
}

// Item is one generated story and what it is.
type Item struct {
	Story *proto.Story
	Kind  Kind
}

type dateline struct{ line, country string }

var datelines = []dateline{
	{"SAMARKAND, Uzbekistan (AP) —", "UZ"}, {"ALMATY, Kazakhstan (AP) —", "KZ"}, {"NAIROBI, Kenya (AP) —", "KE"},
	{"LAGOS, Nigeria (AP) —", "NG"}, {"CAIRO (AP) —", "EG"}, {"JOHANNESBURG (AP) —", "ZA"}, {"LIMA, Peru (AP) —", "PE"},
	{"SAO PAULO (AP) —", "BR"}, {"BOGOTA, Colombia (AP) —", "CO"}, {"MEXICO CITY (AP) —", "MX"}, {"ATLANTA (AP) —", "US"},
	{"CORNING, N.Y. (AP) —", "US"}, {"TORONTO (AP) —", "CA"}, {"BERLIN (AP) —", "DE"}, {"PARIS (AP) —", "FR"},
	{"WARSAW, Poland (AP) —", "PL"}, {"MADRID (AP) —", "ES"}, {"ROME (AP) —", "IT"}, {"KYIV, Ukraine (AP) —", "UA"},
	{"ANKARA, Turkey (AP) —", "TR"}, {"TOKYO (AP) —", "JP"}, {"SEOUL, South Korea (AP) —", "KR"}, {"JAKARTA, Indonesia (AP) —", "ID"},
	{"MANILA, Philippines (AP) —", "PH"}, {"NEW DELHI (AP) —", "IN"}, {"DHAKA, Bangladesh (AP) —", "BD"},
	{"SYDNEY (AP) —", "AU"}, {"WELLINGTON, New Zealand (AP) —", "NZ"}, {"HANOI, Vietnam (AP) —", "VN"}, {"OSLO, Norway (AP) —", "NO"},
}

var countryNames = []string{"Uzbekistan", "Kazakhstan", "Kenya", "Nigeria", "Egypt", "Peru", "Brazil", "Colombia", "Mexico",
	"Canada", "Germany", "France", "Poland", "Spain", "Italy", "Ukraine", "Turkey", "Japan", "Indonesia", "India", "Australia",
	"Vietnam", "Norway", "Chile", "Ghana", "Morocco", "Argentina", "Sweden", "Thailand", "Pakistan"}

type topic struct {
	heads     []string
	sentences []string
}

// Templates: {P} a person, {O} an organisation, {N} a number, {C} a
// country, {D} a day, {W} a distinctive word.
var topics = []topic{
	{ // politics
		[]string{"Parliament backs {W} reform after long debate", "Opposition leader {P} calls for early vote", "Government survives confidence vote over {W} plan"},
		[]string{"Lawmakers voted {N} to {N} on {D} to approve the {W} bill, which the governing coalition had pushed for months.",
			"Opposition leader {P} said the {W} measure would weaken oversight and promised to challenge it before the constitutional court.",
			"The prime minister told parliament that the cabinet would publish the full {W} budget within {N} days.",
			"Election officials said turnout in the {W} district reached {N} percent, the highest since the last general election.",
			"{P}, a senior minister, resigned on {D} after weeks of criticism over the handling of the {W} inquiry.",
			"“We won’t accept a {W} deal that leaves the regions behind,” {P} told reporters outside parliament."},
	},
	{ // economy
		[]string{"Central bank raises rates to curb {W} prices", "Factory output falls for {N}th month", "Oil prices climb as {W} supply tightens"},
		[]string{"The central bank raised its benchmark interest rate by {N} basis points on {D}, citing persistent inflation in {W} goods.",
			"Economists at {O} said exports to {C} fell {N} percent in the quarter as demand for {W} weakened.",
			"Shares of {O} rose {N} percent after the company reported higher quarterly profit from its {W} business.",
			"Brent crude futures settled at {N} dollars a barrel as traders weighed output cuts and {W} shipping delays.",
			"The finance ministry said the budget deficit narrowed to {N} percent of gross domestic product, helped by {W} tax receipts.",
			"“Inflation in {W} goods is proving stickier than we expected,” said {P}, an economist at {O} — the third such warning this month."},
	},
	{ // conflict
		[]string{"Shelling hits {W} district as ceasefire talks stall", "Troops withdraw from {W} front line", "Rebels seize {W} crossing"},
		[]string{"Artillery fire struck the {W} district overnight, killing {N} civilians and wounding dozens, local officials said on {D}.",
			"Military commanders said troops had pulled back from positions near the {W} crossing after heavy fighting.",
			"Mediators from {C} said ceasefire talks would resume on {D}, though both sides accused each other of violations near {W}.",
			"Aid agencies warned that {N} families displaced by the fighting around {W} lacked shelter and clean water.",
			"“There’s nowhere left to go,” said {P}, who fled the {W} district with her children on {D}."},
	},
	{ // sport
		[]string{"{W} United win cup final on penalties", "{P} breaks national record in {W}", "Late goal sends {W} into semifinals"},
		[]string{"{W} United beat their rivals {N}-{N} on penalties in the cup final on {D} before a crowd of {N} fans.",
			"Striker {P} scored twice in the second half as the team extended its unbeaten run to {N} league matches.",
			"{P} broke the national record in the 400 meters at the {W} championships, finishing in {N} seconds.",
			"The coach said injuries to {N} players had forced changes to the lineup ahead of the {W} tournament.",
			"“It’s the best night of my career,” {P} said after the match — a result few had expected."},
	},
	{ // weather and disaster
		[]string{"Floods force thousands from homes in {W} valley", "Heat wave warning issued for {W} region", "Storm cuts power to {N} homes"},
		[]string{"Heavy rain swelled rivers in the {W} valley, forcing {N} people from their homes and cutting roads, officials said on {D}.",
			"The national weather service issued a heat warning for the {W} region, with temperatures expected to reach {N} degrees.",
			"Emergency crews worked through the night to restore power to {N} homes after the storm brought down lines near {W}.",
			"Farmers in the {W} province said the drought had destroyed {N} percent of the wheat crop.",
			"“We’ve never seen the river this high,” said {P}, a farmer in the {W} valley."},
	},
	{ // crime and justice
		[]string{"Court convicts former {W} official of fraud", "Police arrest {N} in {W} smuggling case", "Appeal court overturns {W} ruling"},
		[]string{"A court on {D} convicted a former {W} official of fraud and sentenced him to {N} years in prison.",
			"Police said they arrested {N} people in raids linked to a smuggling network that moved {W} goods across the border with {C}.",
			"Defense lawyer {P} said her client would appeal the verdict in the {W} case to the supreme court.",
			"Prosecutors told the jury that the defendants had laundered {N} million dollars through {W} shell companies.",
			"“The evidence doesn’t support the conviction,” {P} said — the defense will file its appeal within {N} days."},
	},
	{ // health and science
		[]string{"Health ministry expands {W} vaccine drive", "Scientists report {W} breakthrough", "Hospitals strained as {W} cases rise"},
		[]string{"The health ministry said it would extend the {W} vaccination campaign to {N} more districts after cases rose on {D}.",
			"Researchers at {O} reported that a new {W} treatment cut hospital stays by {N} percent in a trial of adult patients.",
			"Doctors at the main hospital in the {W} region said wards were full and {N} patients were waiting for beds.",
			"The space agency said its {W} probe had sent back {N} images from orbit.",
			"“It’s an encouraging result, but it isn’t a cure,” said {P}, who led the {W} trial at {O}."},
	},
}

var (
	people = []string{"Amina Bello", "Jonas Weber", "Maria Santos", "Kenji Sato", "Olga Petrenko", "Rahul Mehta", "Chloe Martin",
		"Tomasz Nowak", "Grace Otieno", "Lucas Ferreira", "Aylin Demir", "Nguyen Van An", "Sofia Rossi", "Ingrid Berg", "Diego Rojas"}
	orgs  = []string{"Northfield Analytics", "Harbor Capital", "the Institute for Regional Studies", "Meridian Energy", "Atlas Logistics", "Bluewater Foods"}
	days  = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	sylls = []string{"ka", "ro", "mi", "ten", "val", "dor", "an", "el", "su", "bri", "tho", "zan", "per", "lo", "gra", "vik", "mon", "sel"}
)

// Generate returns the corpus, deterministic for a Config.
func Generate(cfg Config) []Item {
	if cfg.Size == 0 {
		cfg.Size = 6000
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "urn:corpus:"
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 4, 1, 6, 0, 0, 0, time.UTC)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	items := make([]Item, 0, cfg.Stories)
	var originals []*proto.Story
	for i := 0; i < cfg.Stories; i++ {
		when := proto.FromTime(cfg.Start.Add(time.Duration(i) * 7 * time.Second))
		if len(originals) > 0 && r.Float64() < cfg.DupRate {
			orig := originals[r.IntN(len(originals))]
			var s *proto.Story
			var kind Kind
			switch r.IntN(3) {
			case 0:
				s, kind = orig.Clone(), KindResend
			case 1:
				s, kind = orig.Clone(), KindUpdate
				v := 2
				fmt.Sscan(orig.Version, &v)
				s.Version = fmt.Sprint(v + 1)
				s.VersionCreated = when
				s.BodyText += "\n\n" + fillSentence(r, topics[r.IntN(len(topics))].sentences[0])
				orig.Version, orig.BodyText, orig.VersionCreated = s.Version, s.BodyText, s.VersionCreated
			default:
				s, kind = orig.Clone(), KindNear
				s.URI = fmt.Sprintf("%s%d", cfg.Prefix, i)
				s.Version = "1"
				s.BodyText = strings.ReplaceAll(s.BodyText, ". ", ".  ") + "\n\nCopyright 2024. All rights reserved."
			}
			items = append(items, Item{Story: s, Kind: kind})
			continue
		}
		s := newStory(r, fmt.Sprintf("%s%d", cfg.Prefix, i), when, cfg.Size)
		originals = append(originals, s.Clone())
		items = append(items, Item{Story: s, Kind: KindNew})
	}
	return items
}

func newStory(r *rand.Rand, uri string, when proto.Time, size int) *proto.Story {
	d := datelines[r.IntN(len(datelines))]
	t := topics[r.IntN(len(topics))]
	second := topics[r.IntN(len(topics))]
	var b strings.Builder
	b.WriteString(d.line)
	b.WriteByte(' ')
	for b.Len() < size {
		src := t
		if r.IntN(4) == 0 {
			src = second
		}
		b.WriteString(fillSentence(r, src.sentences[r.IntN(len(src.sentences))]))
		if r.IntN(3) == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return &proto.Story{
		URI: uri, Version: "1", VersionCreated: when, FirstCreated: when, PubStatus: proto.PubStatusUsable, Language: "en",
		Headline: fillSentence(r, t.heads[r.IntN(len(t.heads))]), BodyText: strings.TrimSpace(b.String()),
	}
}

func fillSentence(r *rand.Rand, tmpl string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == '{' && i+2 < len(tmpl) && tmpl[i+2] == '}' {
			switch tmpl[i+1] {
			case 'P':
				b.WriteString(people[r.IntN(len(people))])
			case 'O':
				b.WriteString(orgs[r.IntN(len(orgs))])
			case 'N':
				fmt.Fprint(&b, 2+r.IntN(900))
			case 'C':
				b.WriteString(countryNames[r.IntN(len(countryNames))])
			case 'D':
				b.WriteString(days[r.IntN(len(days))])
			case 'W':
				b.WriteString(word(r))
			}
			i += 2
			continue
		}
		b.WriteByte(tmpl[i])
	}
	return b.String()
}

// word makes a capitalised invented name, so stories differ in their words.
func word(r *rand.Rand) string {
	n := 2 + r.IntN(2)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(sylls[r.IntN(len(sylls))])
	}
	w := b.String()
	return strings.ToUpper(w[:1]) + w[1:]
}

// JSONLines encodes items as ninjs JSON lines.
func JSONLines(items []Item) ([]byte, error) {
	var out []byte
	for _, it := range items {
		var err error
		if out, err = proto.AppendJSON(out, it.Story); err != nil {
			return nil, err
		}
		out = append(out, '\n')
	}
	return out, nil
}
