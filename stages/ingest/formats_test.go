package ingest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

const formatsDir = "../../testdata/formats"

func readFormat(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(formatsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseFile splits a fixture as `wirestream ingest FILE` does and parses
// every record through the stage, as the pipeline does. A story without a
// uri from its provider gets the content uri: checked here, then blanked
// so that the tables can list the other fields exactly.
func parseFile(t *testing.T, name string) (stories []*proto.Story, lines []int, formats []string) {
	t.Helper()
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = ingest.Split(bytes.NewReader(readFormat(t, name)), ingest.DefaultMaxBytes, func(rec ingest.Record) error {
		got, err := st.ParseAll(rec.Data, rec.Format)
		if err != nil {
			t.Fatalf("%s:%d (%s): %v", name, rec.Line, rec.Format, err)
		}
		for _, s := range got {
			if s.Dedupe == nil || s.Dedupe.Status != proto.DedupeNew {
				t.Errorf("%s:%d: dedupe %+v, want new", name, rec.Line, s.Dedupe)
			}
			if strings.HasPrefix(s.URI, ingest.URIPrefix) {
				if s.URI != ingest.ContentURI(s) {
					t.Errorf("%s:%d: uri %s is not the content uri", name, rec.Line, s.URI)
				}
				s.URI = ""
			}
			s.Dedupe, s.Dateline = nil, nil
			stories, lines, formats = append(stories, s), append(lines, rec.Line), append(formats, rec.Format)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return stories, lines, formats
}

func TestParseFormatFiles(t *testing.T) {
	tests := []struct {
		file    string
		detect  string // DetectFormat of the whole file
		lines   []int  // where each record starts
		formats []string
		want    []*proto.Story
	}{
		{
			file: "nitf-story.xml", detect: ingest.FormatNITF, lines: []int{1}, formats: []string{ingest.FormatNITF},
			want: []*proto.Story{{
				URI:            "urn:example-wire:20261127:skerry-point", // doc-id@id-string
				Type:           "text",
				Version:        "2", // du-key@version
				VersionCreated: tm(t, "2026-11-27T08:15:00Z"),
				FirstCreated:   tm(t, "2026-11-27T06:00:00Z"), // date.release
				PubStatus:      proto.PubStatusUsable,
				Urgency:        4,
				Language:       "en-US",
				Headline:       "Keepers return to Skerry Point light after 40 years", // hl1, not head/title
				Slugline:       "SKERRY-LIGHTHOUSE",
				Byline:         "By Ailsa Brandt, Example Wire Writer",
				Located:        "PORT ELLERY, Scotland", // dateline/location
				BodyText: "PORT ELLERY, Scotland (EXW) — Keepers moved back into the Skerry Point lighthouse on Friday, forty years after the light was automated.\n\n" +
					"The six volunteers will live in the tower in shifts of two & keep a log of passing ships, the island council said.\n\n" +
					"“It is the first winter with people on the rock since 1986,” harbour master Ewan MacAulay said.", // media left out
				EdNote:  "Corrects spelling of the harbour master's name in 4th paragraph.",
				Subject: []*proto.Subject{medtop("medtop:20000209", "maritime transport")}, // the Subject Code is not a Media Topic
			}},
		},
		{
			file: "nitf-kill-ns.xml", detect: ingest.FormatNITF, lines: []int{1}, formats: []string{ingest.FormatNITF},
			want: []*proto.Story{{
				URI:            "urn:example-wire:20261126:ferry-fare",
				Type:           "text",
				Version:        "3",
				VersionCreated: tm(t, "2026-11-26T21:10:00Z"), // 22:10 +0100
				PubStatus:      proto.PubStatusCanceled,
				Urgency:        1,
				Headline:       "KILL: Ferry fares story",
				Slugline:       "FERRY-FARES",
				BodyText:       "Editors: the story on ferry fares filed at 2045 is withdrawn. Do not use.",
			}},
		},
		{
			file: "archive.anpa", detect: ingest.FormatANPA, lines: []int{1, 12, 19}, formats: []string{ingest.FormatANPA, ingest.FormatANPA, ingest.FormatANPA},
			want: []*proto.Story{{
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   1, // f: flash
				Headline:  "Blast at quarry shakes town",
				Slugline:  "BC-Quarry-Blast",
				Byline:    "By JANE ROWE, Example Wire Writer",
				Located:   "MILLBROOK, Vt.",
				BodyText: "MILLBROOK, Vt. (EXW) — An explosion at a granite quarry shook windows across Millbrook on Thursday morning, fire officials said.\n\n" +
					"No one was hurt, they said.",
			}, {
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   5, // r: regular
				Headline:  "Harbour rink wins county final",
				Slugline:  "BC-Curling-Results",
				Located:   "KELSO, N.B.",
				BodyText:  "KELSO, N.B. (EXW) — The Harbour rink beat Millside 7-5 to take the county curling final on Thursday night.",
				EdNote:    "Moves on sports wires.",
			}, {
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   3, // u: urgent
				Headline:  "Water behind the Riverton dam rose a metre overnight and engineers opened two spillways on Thursday.",
				Slugline:  "BC-Dam-Level",
				Located:   "RIVERTON, Ont.",
				BodyText: "RIVERTON, Ont. (EXW) — Water behind the Riverton dam rose a metre overnight and engineers opened two spillways on Thursday.\n\n" +
					"Residents downstream were told to move cars off the flats.",
			}},
		},
		{
			file: "day.7901", detect: ingest.FormatIPTC7901, lines: []int{1, 9, 14}, formats: []string{ingest.FormatIPTC7901, ingest.FormatIPTC7901, ingest.FormatIPTC7901},
			want: []*proto.Story{{
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   3,
				Headline:  "Recount ordered in Westmarch seat",
				Slugline:  "ELECTION-COUNT",
				Located:   "WESTMARCH",
				BodyText: "WESTMARCH, Dec 1 (XYZ) - Officials ordered a recount in the Westmarch seat on Monday after the two leading candidates finished eleven votes apart.\n\n" +
					"The recount begins on Tuesday.",
			}, {
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   1,
				Headline:  "FLASH",
				Slugline:  "RATES-FLASH",
				Located:   "LONDON",
				BodyText:  "LONDON, Dec 1 (XYZ) - The central bank raised its main rate to 4.5 percent.",
			}, {
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Urgency:   4,
				Headline:  "Marathon record falls in Eastport", // ZCZC ... NNNN
				Slugline:  "MARATHON",
				Located:   "EASTPORT",
				BodyText:  "EASTPORT, Dec 1 (XYZ) - A club runner from Eastport broke the course record by 40 seconds on Sunday.",
			}},
		},
		{
			file: "ninjs2-story.json", detect: ingest.FormatNinjs, lines: []int{1}, formats: []string{ingest.FormatNinjs},
			want: []*proto.Story{{
				URI:            "urn:example-wire:20261127:glacier-survey",
				Type:           "text",
				Version:        "4",
				VersionCreated: tm(t, "2026-11-27T10:30:00Z"),
				FirstCreated:   tm(t, "2026-11-27T07:05:00Z"),
				PubStatus:      proto.PubStatusUsable,
				Urgency:        5,
				Language:       "en",
				Headline:       "Survey finds Innertal glacier lost a tenth of its ice", // role main
				Slugline:       "GLACIER-SURVEY",
				Byline:         "By Tomas Riedl",
				Located:        "INNERTAL, Alpenland",
				BodyText: "INNERTAL, Alpenland (EXW) — The Innertal glacier lost a tenth of its ice in two summers, surveyors said on Friday.\n\n" +
					"The team measured the ice from the air in September.", // text/plain before text/html
				EdNote: "Moves on general news services.",
				Place:  []*proto.Place{{Name: "Alpenland", Rel: "located"}},
				Subject: []*proto.Subject{
					{Scheme: proto.SchemeMedTop, Code: "medtop:06000000", Name: "environment", Relevance: 90},
					medtop("medtop:20000418", "climate change"),
				},
			}},
		},
		{
			file: "ninjs3-story.json", detect: ingest.FormatNinjs, lines: []int{1}, formats: []string{ingest.FormatNinjs},
			want: []*proto.Story{{
				URI:            "urn:example-wire:20261128:orchard-frost",
				Type:           "text",
				Version:        "1",
				VersionCreated: tm(t, "2026-11-28T04:45:00Z"), // versionCreated
				FirstCreated:   tm(t, "2026-11-28T04:45:00Z"),
				PubStatus:      proto.PubStatusWithheld, // pubStatus
				Urgency:        3,
				Language:       "de",
				Headline:       "Late frost hits valley orchards",
				Slugline:       "ORCHARD-FROST",
				Byline:         "Lena Vogt",
				Located:        "BERGHEIM",
				BodyText:       "BERGHEIM (EXW) — Frost on Friday night damaged apple blossom in the upper valley.\n\nGrowers lit fires between the rows.",
				EdNote:         "Embargoed until 0600 CET.", // edNote
				Subject:        []*proto.Subject{{Scheme: proto.SchemeMedTop, Code: "medtop:20000210", Name: "agriculture", Relevance: 70}},
			}},
		},
		{
			file: "ninjs2-shape.json", detect: ingest.FormatNinjs, lines: []int{1}, formats: []string{ingest.FormatNinjs},
			want: []*proto.Story{{
				URI:       "urn:example-wire:20261129:bridge",
				Type:      "text",
				PubStatus: proto.PubStatusUsable,
				Headline:  "Footbridge reopens",
				Located:   "ALDMOUTH",
				BodyText:  "ALDMOUTH (EXW) — The footbridge over the Ald reopened on Saturday after repairs.",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := ingest.DetectFormat(readFormat(t, tt.file)); got != tt.detect {
				t.Errorf("DetectFormat = %q, want %q", got, tt.detect)
			}
			got, lines, formats := parseFile(t, tt.file)
			diffStories(t, got, tt.want)
			if !equalInts(lines, tt.lines) || strings.Join(formats, ",") != strings.Join(tt.formats, ",") {
				t.Errorf("records at lines %v in %v, want %v in %v", lines, formats, tt.lines, tt.formats)
			}
		})
	}
}

// TestFormatRejections: each broken fixture or variant is rejected,
// permanently, with its format's reason and the fault named.
func TestFormatRejections(t *testing.T) {
	soh, stx, etx := "\x01", "\x02", "\x03"
	good := soh + "a0301  r a BC-Good 11-27 0010\n" + stx + "\tGOOD (EXW) _ Text.\n" + etx
	tests := []struct {
		name   string
		data   []byte
		format string
		reason error
		says   string
	}{
		{"nitf truncated", readFormat(t, "bad-nitf-truncated.xml"), "", ingest.ErrInvalidNITF, "malformed XML at line 9: unexpected EOF"},
		{"nitf no body", readFormat(t, "bad-nitf-no-body.xml"), "", ingest.ErrInvalidNITF, "no <body>"},
		{"nitf bad urgency", readFormat(t, "bad-nitf-urgency.xml"), "", ingest.ErrInvalidNITF, `ed-urg "urgent"`},
		{"nitf empty content", []byte(`<nitf><body><body.content>  </body.content></body></nitf>`), "", ingest.ErrInvalidNITF, "holds no text"},
		{"nitf bad date", []byte(`<nitf><head><docdata><date.issue norm="yesterday"/></docdata></head><body><body.content><p>x</p></body.content></body></nitf>`), "", ingest.ErrInvalidNITF, `date.issue norm: "yesterday"`},
		{"nitf bad status", []byte(`<nitf><head><docdata management-status="maybe"/></head><body><body.content><p>x</p></body.content></body></nitf>`), "", ingest.ErrInvalidNITF, `management-status "maybe"`},
		{"nitf foreign namespace", []byte(`<nitf xmlns="urn:other"><body><body.content><p>x</p></body.content></body></nitf>`), "", ingest.ErrInvalidNITF, `namespace "urn:other"`},
		{"nitf forced on NewsML", readNewsML(t, "item-plain.xml"), ingest.FormatNITF, ingest.ErrInvalidNITF, "is not <nitf>"},
		{"anpa no ETX", readFormat(t, "bad-anpa-no-etx.anpa"), "", ingest.ErrInvalidWire, "no ETX (0x03): the message is truncated"},
		{"anpa NUL", readFormat(t, "bad-anpa-control.anpa"), "", ingest.ErrInvalidWire, "control character 0x00 at byte 58"},
		{"anpa no STX", readFormat(t, "bad-anpa-no-stx.anpa"), "", ingest.ErrInvalidWire, "no STX"},
		{"anpa header", readFormat(t, "bad-anpa-header.anpa"), "", ingest.ErrInvalidWire, "no priority"},
		{"7901 no NNNN", readFormat(t, "bad-7901-no-nnnn.7901"), "", ingest.ErrInvalidWire, "no ETX (0x03) or NNNN"},
		{"anpa EOT before ETX", []byte(soh + "a0302 r a BC-X\n" + stx + "\tCut off\x04"), "", ingest.ErrInvalidWire, "EOT at byte"},
		{"anpa two messages in one", []byte(strings.Replace(good, etx, "", 1) + good), "", ingest.ErrInvalidWire, "SOH at byte"},
		{"anpa no category", []byte(soh + "a0303 r\n" + stx + "\tText.\n" + etx), "", ingest.ErrInvalidWire, "no category"},
		{"anpa empty text", []byte(soh + "a0304 r a BC-Empty\n" + stx + " \r\n " + etx), "", ingest.ErrInvalidWire, "holds no text"},
		{"anpa text after ETX", []byte(good + strings.Repeat(" more text without a frame", 8)), "", ingest.ErrInvalidWire, "after the end of text"},
		{"anpa forced on text", []byte("Plain text, not a wire message."), ingest.FormatANPA, ingest.ErrInvalidWire, "does not start with SOH"},
		{"ninjs 2 wrong type", readFormat(t, "bad-ninjs2-types.json"), "", ingest.ErrInvalidNinjs, "headlines"},
		{"ninjs 3 wrong type", []byte(`{"versionCreated":"2026-11-28T05:45:00Z","bodies":[{"value":"x"}],"urgency":"high"}`), "", ingest.ErrInvalidNinjs, "urgency"},
		{"ninjs 2 subjects not a list", []byte(`{"standard":{"version":"2.0"},"subjects":{"name":"x"},"bodies":[{"value":"x"}]}`), "", ingest.ErrInvalidNinjs, "subjects"},
		{"ninjs 2 other standard", []byte(`{"standard":{"name":"other","version":"2.0"},"bodies":[{"value":"x"}]}`), "", ingest.ErrInvalidNinjs, `standard name "other"`},
		{"ninjs 2 urgency range", []byte(`{"standard":{"version":"2.0"},"urgency":12,"bodies":[{"value":"x"}]}`), "", ingest.ErrInvalidNinjs, "urgency 12"},
		{"ninjs 2 no text body", []byte(`{"standard":{"version":"2.0"},"uri":"u","bodies":[{"contenttype":"image/png","value":"x"}]}`), "", ingest.ErrEmptyBody, "empty body"},
		{"ninjs 2 syntax", []byte(`{"standard":{"version":"2.0"},"bodies":[{"value":"x"}]`), "", ingest.ErrInvalidJSON, "invalid JSON"},
		{"unknown format", []byte("x"), "telex", ingest.ErrUnknownFormat, `"telex" (known: ninjs, ninjs2, ninjs3, newsml, nitf, anpa, iptc7901, text)`},
	}
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.ParseAll(tt.data, tt.format)
			if err == nil {
				t.Fatalf("accepted: %+v", got[0])
			}
			if !errors.Is(err, tt.reason) || !proto.IsPermanent(err) {
				t.Errorf("error %v: want %v, permanent", err, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// TestWireVariants: the framings and header shapes of the wire formats,
// and the priority mapping.
func TestWireVariants(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		urgency  int32
		slug     string
		headline string
		body     string
	}{
		{"anpa bulletin", "\x01a0001 b a BC-Fire,0120\r\n\x02^Fire closes mill<\r\n\tMILLTOWN (EXW) _ A fire closed the mill.\r\n\x03", 2, "BC-Fire", "Fire closes mill", "MILLTOWN (EXW) — A fire closed the mill."},
		{"anpa deferred", "\x01a0002 d f BC-Feature\n\x02\tA slow story.\n\x03\x04", 6, "BC-Feature", "A slow story.", "A slow story."},
		{"anpa unknown letter", "\x01a0003 x a BC-Misc\n\x02\tA story.\n\x03", 0, "BC-Misc", "A story.", "A story."},
		{"7901 digit", "\x01ABC0001 2 POL 0100 VOTE\n\x02Vote delayed\n\nThe vote is delayed.\n\x03", 2, "VOTE", "Vote delayed", "The vote is delayed."},
		{"7901 keyword first", "\x01ABC0002 5 GEN VOTE-2 0100\n\x02The vote is delayed.\n\x03", 5, "VOTE-2", "The vote is delayed.", "The vote is delayed."},
		{"zczc header on its line", "ZCZC ABC0003 4 SPO 0010 RACE\nRace won.\nNNNN", 4, "RACE", "Race won.", "Race won."},
		{"zczc with stx etx", "ZCZC\n\x01ignored?\n", 0, "", "", ""}, // rejected below: SOH inside
		{"latin-1 text", "\x01ABC0004 4 GEN CAFE\n\x02Caf\xe9 opens.\n\x03", 4, "CAFE", "Café opens.", "Café opens."},
		{"crlf lines joined", "\x01ABC0005 4 GEN LONG\r\n\x02A line that wraps\r\nonto the next line.\r\n\r\nSecond paragraph.\r\n\x03", 4, "LONG", "A line that wraps onto the next line.", "Second paragraph."},
	}
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := st.Parse([]byte(tt.msg), "")
			if tt.body == "" {
				if !errors.Is(err, ingest.ErrInvalidWire) {
					t.Fatalf("got %v, want ErrInvalidWire", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Urgency != tt.urgency || s.Slugline != tt.slug || s.Headline != tt.headline || s.BodyText != tt.body {
				t.Errorf("urgency %d slug %q headline %q body %q\nwant %d %q %q %q", s.Urgency, s.Slugline, s.Headline, s.BodyText, tt.urgency, tt.slug, tt.headline, tt.body)
			}
		})
	}
}

// TestSplitWire: a wire archive splits into one record per message, at
// the line each starts on, with text outside any message a record of its
// own (rejected, not lost), and SplitAs applies a given format's framing.
func TestSplitWire(t *testing.T) {
	in := "junk before\n\x01a1 r a BC-One\n\x02\tOne.\n\x03\x04\n\n  \x01a2 r a BC-Two\n\x02\tTwo.\n\x03\nZCZC ABC3 4 GEN THREE\nThree.\nNNNN\nZCZCnot a start \x01a4 r a BC-Four\n\x02\tFour.\n\x03"
	var got []string
	err := ingest.SplitAs(strings.NewReader(in), 1<<20, ingest.FormatANPA, func(r ingest.Record) error {
		got = append(got, strings.Fields(string(r.Data))[0]+"@"+itoa(r.Line)+":"+r.Format)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "junk@1:anpa \x01a1@2:anpa \x01a2@6:anpa ZCZC@9:anpa ZCZCnot@12:anpa \x01a4@12:anpa"
	if strings.Join(got, " ") != want {
		t.Errorf("records %q\nwant     %q", strings.Join(got, " "), want)
	}
	// Split finds the same messages: SOH then STX within the first buffer
	// make the input wire copy although it opens with text.
	var detected []string
	_ = ingest.Split(strings.NewReader(in), 1<<20, func(r ingest.Record) error {
		detected = append(detected, strings.Fields(string(r.Data))[0]+"@"+itoa(r.Line)+":"+r.Format)
		return nil
	})
	if strings.Join(detected, " ") != want {
		t.Errorf("Split: records %q\nwant            %q", strings.Join(detected, " "), want)
	}
	// Text with a stray SOH and no STX stays text.
	n := 0
	_ = ingest.Split(strings.NewReader("Plain text\x01 with a stray control."), 1<<20, func(r ingest.Record) error {
		if n++; r.Format != ingest.FormatText {
			t.Errorf("stray SOH: format %s", r.Format)
		}
		return nil
	})
	if n != 1 {
		t.Errorf("stray SOH: %d records, want 1", n)
	}
	if err := ingest.SplitAs(strings.NewReader(in), 10, "telex", func(ingest.Record) error { return nil }); !errors.Is(err, ingest.ErrUnknownFormat) {
		t.Errorf("SplitAs telex: %v", err)
	}
}

func itoa(i int) string {
	b := []byte{}
	if i == 0 {
		return "0"
	}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestDetectFormat: every format is told by its opening, and a NITF root
// after a prolog is still found.
func TestDetectFormat(t *testing.T) {
	for in, want := range map[string]string{
		`{"uri":"x"}`:           ingest.FormatNinjs,
		"<newsItem/>":           ingest.FormatNewsML,
		"<nitf/>":               ingest.FormatNITF,
		"<n:nitf xmlns:n='x'/>": ingest.FormatNITF,
		"<?xml version='1.0'?>\n<!-- c -->\n<!DOCTYPE nitf [<!ENTITY e 'x'>]>\n<nitf/>": ingest.FormatNITF,
		"<nitfx/>":                    ingest.FormatNewsML,
		"\x01a1 r a X\n\x02x\x03":     ingest.FormatANPA,
		"\x01ABC1 3 POL X\n\x02x\x03": ingest.FormatIPTC7901,
		"ZCZC ABC1 3 POL X\nx\nNNNN":  ingest.FormatIPTC7901,
		"ZCZ is text":                 ingest.FormatText,
		"PARIS (AFP) - x":             ingest.FormatText,
	} {
		if got := ingest.DetectFormat([]byte(in)); got != want {
			t.Errorf("DetectFormat(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestNITFVariants: the fallbacks of the NITF mapping.
func TestNITFVariants(t *testing.T) {
	doc := `<nitf><head><title>Title only</title><docdata management-status="embargoed"><date.release norm="2026-11-27T06:00:00Z"/></docdata></head>` +
		`<body xml:lang="cy"><body.head><byline>By One</byline><byline>By Two</byline>` +
		`<dateline>ABERYSTWYTH, Wales, <story.date>Nov. 27</story.date></dateline></body.head>` +
		`<body.content><block><p>First.</p><ul><li>Item.</li></ul></block><p>Last.</p></body.content></body></nitf>`
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Story{
		URI: s.URI, Type: "text", PubStatus: proto.PubStatusWithheld, Language: "cy",
		VersionCreated: tm(t, "2026-11-27T06:00:00Z"), FirstCreated: tm(t, "2026-11-27T06:00:00Z"),
		Headline: "Title only", Byline: "By One; By Two", Located: "ABERYSTWYTH, Wales",
		BodyText: "First.\n\nItem.\n\nLast.",
	}
	s.Dedupe, s.Dateline = nil, nil
	diffStories(t, []*proto.Story{s}, []*proto.Story{&want})
	if s.URI != ingest.ContentURI(s) {
		t.Errorf("uri %s: want the content uri", s.URI)
	}
}
