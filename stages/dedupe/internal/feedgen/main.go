// Command feedgen writes the dedupe evaluation feed: base stories composed
// from the hand-written material in topics.go, and stories derived from
// them the way wires produce them (resends, write-thrus, corrections, kills,
// out-of-order versions, copies under other uris that are identical,
// reformatted, carry agency boilerplate, are trimmed or have a reworded
// headline), each with its gold decision.
//
//	go run ./stages/dedupe/internal/feedgen -o testdata/dedupe/feed.jsonl
//
// The output is deterministic for a given -seed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// Line is one line of the feed.
type Line struct {
	Story json.RawMessage `json:"story"`
	Gold  Gold            `json:"gold"`
	// Kind says how the story was made: base, resend, writethru,
	// correction, kill, kill_resend, kill_unknown, copy_identical,
	// copy_reformat, copy_boilerplate, copy_trimmed, copy_headline.
	Kind string `json:"kind"`
	// Topic and Base name the base story (hard negatives share a topic).
	Topic string `json:"topic"`
	Base  string `json:"base"`
}

// Gold is the expected decision.
type Gold struct {
	Status string `json:"status"`
	Of     string `json:"of,omitempty"`
}

type version struct {
	headline  string
	paras     []string
	ednote    string
	kill      bool
	vc        time.Time
	versioned bool
	n         int
}

func (v *version) body() string { return strings.Join(v.paras, "\n\n") }

type base struct {
	uri      string
	topic    string
	dateline string
	versions []*version
	rng      *rand.Rand
	slots    map[string]string
	unused   []string
}

type event struct {
	at    time.Time
	kind  string
	b     *base
	v     *version // version events
	xform string   // copy events
	uri   string   // copy and unknown-kill events
}

var day0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "testdata/dedupe/feed.jsonl", "output file")
	seed := flag.Uint64("seed", 20261126, "random seed")
	flag.Parse()
	lines := generate(*seed)
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	counts := map[string]int{}
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			panic(err)
		}
		w.Write(b)
		w.WriteByte('\n')
		counts[l.Gold.Status]++
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Close()
	fmt.Fprintf(os.Stderr, "%d lines %v\n", len(lines), counts)
}

func generate(seed uint64) []Line {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var bases []*base
	var events []*event
	minute := 0.0
	for _, tp := range topics {
		for i := 0; i < tp.count; i++ {
			b := newBase(tp, i, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
			bases = append(bases, b)
			minute += 2 + rng.Float64()*3
			events = append(events, plan(b, day0.Add(time.Duration(minute*float64(time.Minute))), rng)...)
		}
	}
	// Kills for uris never seen.
	for k := 0; k < 6; k++ {
		at := day0.Add(time.Duration(rng.IntN(900)) * time.Minute)
		events = append(events, &event{at: at, kind: "kill_unknown", uri: fmt.Sprintf("urn:wirestream:test:ghost-%02d", k),
			v: &version{headline: "KILL", paras: []string{killText}, kill: true, vc: at, versioned: true, n: 3}})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	return label(events)
}

const killText = "KILL: This story has been withdrawn. Please remove it from your archives and do not use it."

func newBase(tp topic, i int, rng *rand.Rand) *base {
	b := &base{
		uri:      fmt.Sprintf("urn:wirestream:test:%s-%03d", tp.name, i),
		topic:    tp.name,
		dateline: tp.datelines[rng.IntN(len(tp.datelines))],
		rng:      rng,
		slots:    map[string]string{},
	}
	perm := rng.Perm(len(tp.sentences))
	n := 6 + rng.IntN(4)
	var sents []string
	for _, p := range perm[:n] {
		sents = append(sents, b.fill(tp.sentences[p]))
	}
	for _, p := range perm[n:] {
		b.unused = append(b.unused, tp.sentences[p])
	}
	var paras []string
	for j := 0; j < len(sents); {
		k := 1 + rng.IntN(2)
		if j+k > len(sents) {
			k = len(sents) - j
		}
		paras = append(paras, strings.Join(sents[j:j+k], " "))
		j += k
	}
	paras[0] = b.dateline + " — " + paras[0]
	v := &version{headline: b.fill(tp.headlines[rng.IntN(len(tp.headlines))]), paras: paras, versioned: tp.name != "misc" || rng.IntN(2) == 0, n: 1}
	b.versions = append(b.versions, v)
	return b
}

// fill replaces {slot}s; a slot keeps its value within one story.
func (b *base) fill(s string) string {
	var sb strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		j := strings.IndexByte(s[i:], '}') + i
		sb.WriteString(s[:i])
		name := s[i+1 : j]
		v, ok := b.slots[name]
		if !ok {
			vals := fillers[name]
			if len(vals) == 0 {
				panic("no filler for " + name)
			}
			v = vals[b.rng.IntN(len(vals))]
			b.slots[name] = v
		}
		sb.WriteString(v)
		s = s[j+1:]
	}
}

// plan schedules the events of one base story.
func plan(b *base, t0 time.Time, rng *rand.Rand) []*event {
	v1 := b.versions[0]
	v1.vc = t0
	evs := []*event{{at: t0, kind: "base", b: b, v: v1}}
	after := func(t time.Time, lo, hi int) time.Time {
		return t.Add(time.Duration(lo+rng.IntN(hi-lo+1)) * time.Minute)
	}
	last := t0
	// Write-thru and correction.
	if rng.Float64() < 0.4 {
		v2 := b.writethru(v1)
		v2.vc = after(last, 20, 240)
		last = v2.vc
		evs = append(evs, &event{at: v2.vc, kind: "writethru", b: b, v: v2})
		if rng.Float64() < 0.5 {
			v3 := b.correction(v2)
			v3.vc = after(last, 20, 200)
			last = v3.vc
			evs = append(evs, &event{at: v3.vc, kind: "correction", b: b, v: v3})
		}
		// Out of order: the newest version overtakes the one before it.
		if rng.Float64() < 0.3 {
			n := len(evs)
			evs[n-1].at, evs[n-2].at = evs[n-2].at, evs[n-1].at.Add(time.Duration(1+rng.IntN(5))*time.Second)
			if evs[n-2].at.After(last) {
				last = evs[n-2].at
			}
			evs[n-1].kind += "_ooo"
		}
		// A late resend of the first version.
		if rng.Float64() < 0.15 {
			evs = append(evs, &event{at: after(last, 10, 60), kind: "resend_old", b: b, v: v1})
		}
	}
	if rng.Float64() < 0.2 {
		evs = append(evs, &event{at: after(t0, 1, 15), kind: "resend", b: b, v: v1})
	}
	// Copies under other uris, at most one per transform.
	if rng.Float64() < 0.5 {
		xs := []string{"copy_identical", "copy_reformat", "copy_boilerplate", "copy_trimmed", "copy_headline"}
		rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		for j, x := range xs[:1+rng.IntN(2)] {
			evs = append(evs, &event{at: after(t0, 5, 400), kind: x, b: b, xform: x,
				uri: fmt.Sprintf("urn:wirestream:test:outlet%d-%s", j+1, strings.TrimPrefix(b.uri, "urn:wirestream:test:"))})
		}
	}
	// Kill, sometimes sent twice.
	if rng.Float64() < 0.08 {
		lv := b.versions[len(b.versions)-1]
		k := &version{headline: "KILL " + lv.headline, paras: []string{killText}, kill: true, versioned: lv.versioned, n: lv.n + 1}
		k.vc = after(last, 30, 120)
		b.versions = append(b.versions, k)
		evs = append(evs, &event{at: k.vc, kind: "kill", b: b, v: k})
		if rng.Float64() < 0.4 {
			evs = append(evs, &event{at: after(k.vc, 5, 30), kind: "kill_resend", b: b, v: k})
		}
	}
	return evs
}

// writethru adds a paragraph after the second one and often a new headline.
func (b *base) writethru(v *version) *version {
	n := &version{headline: v.headline, paras: append([]string(nil), v.paras...), versioned: v.versioned, n: v.n + 1}
	add := b.fill(b.unused[0]) + " " + b.fill(b.unused[1])
	b.unused = b.unused[2:]
	at := 2
	if at > len(n.paras) {
		at = len(n.paras)
	}
	n.paras = append(n.paras[:at], append([]string{add}, n.paras[at:]...)...)
	if b.rng.IntN(2) == 0 {
		n.headline = "UPDATE 1-" + v.headline
	}
	b.versions = append(b.versions, n)
	return n
}

// correction changes the first number of the body (or a word) and says so.
func (b *base) correction(v *version) *version {
	n := &version{headline: v.headline, paras: append([]string(nil), v.paras...), versioned: v.versioned, n: v.n + 1}
	for i, p := range n.paras {
		if j := strings.IndexAny(p, "0123456789"); j >= 0 {
			n.paras[i] = p[:j] + "1" + p[j:]
			n.ednote = "CORRECTS figure in paragraph " + strconv.Itoa(i+1)
			break
		}
	}
	if n.ednote == "" {
		n.paras[len(n.paras)-1] += " Officials gave no further details."
		n.ednote = "CORRECTS to add detail in final paragraph"
	}
	b.versions = append(b.versions, n)
	return n
}

func story(uri string, v *version, at time.Time) *proto.Story {
	s := &proto.Story{URI: uri, Type: "text", Language: "en", Headline: v.headline, BodyText: v.body(),
		EdNote: v.ednote, PubStatus: proto.PubStatusUsable, VersionCreated: proto.FromTime(v.vc),
		FirstCreated: proto.FromTime(day0), Received: proto.FromTime(at), Source: "test"}
	if v.versioned {
		s.Version = strconv.Itoa(v.n)
	}
	if v.kill {
		s.PubStatus = proto.PubStatusCanceled
	}
	return s
}

// label walks the feed in arrival order and applies the decision rules.
func label(events []*event) []Line {
	type state struct {
		latest   *version
		killed   bool
		accepted *version // newest version republished as new or update
	}
	seen := map[string]*state{}
	var lines []Line
	for i, e := range events {
		var s *proto.Story
		var g Gold
		topic, baseURI := "", ""
		if e.b != nil {
			topic, baseURI = e.b.topic, e.b.uri
		}
		switch {
		case e.kind == "kill_unknown":
			s = story(e.uri, e.v, e.at)
			g = Gold{Status: proto.DedupeKill}
			seen[e.uri] = &state{latest: e.v, killed: true}
		case e.xform != "":
			st := seen[e.b.uri]
			src := st.accepted
			s = story(e.uri, src, e.at)
			s.VersionCreated = proto.FromTime(e.at)
			s.Version = "1"
			switch e.xform {
			case "copy_identical":
				g = Gold{Status: proto.DedupeDuplicate, Of: e.b.uri}
			default:
				transform(s, e.xform, e.b)
				g = Gold{Status: proto.DedupeNearDuplicate, Of: e.b.uri}
			}
		default:
			uri := e.b.uri
			s = story(uri, e.v, e.at)
			st := seen[uri]
			switch {
			case st == nil && e.v.kill:
				g = Gold{Status: proto.DedupeKill}
				st = &state{latest: e.v, killed: true}
				seen[uri] = st
			case st == nil:
				g = Gold{Status: proto.DedupeNew}
				seen[uri] = &state{latest: e.v, accepted: e.v}
			case e.v.kill && st.killed:
				g = Gold{Status: proto.DedupeDuplicate, Of: uri}
			case e.v.kill:
				g = Gold{Status: proto.DedupeKill, Of: uri}
				st.killed = true
				if cmp(e.v, st.latest) > 0 {
					st.latest = e.v
				}
			case cmp(e.v, st.latest) > 0:
				g = Gold{Status: proto.DedupeUpdate, Of: uri}
				st.latest, st.accepted, st.killed = e.v, e.v, false
			case e.v == st.latest:
				g = Gold{Status: proto.DedupeDuplicate, Of: uri}
			default:
				g = Gold{Status: proto.DedupeStale, Of: uri}
			}
		}
		s.IngestSeq = uint64(i + 1)
		raw, err := proto.MarshalJSON(s)
		if err != nil {
			panic(err)
		}
		lines = append(lines, Line{Story: raw, Gold: g, Kind: e.kind, Topic: topic, Base: baseURI})
	}
	return lines
}

func cmp(a, b *version) int {
	if a.versioned && b.versioned && a.n != b.n {
		return a.n - b.n
	}
	return a.vc.Compare(b.vc)
}

// transform makes another outlet's copy of a story.
func transform(s *proto.Story, x string, b *base) {
	switch x {
	case "copy_reformat":
		s.Headline = strings.ToUpper(s.Headline)
		body := strings.ReplaceAll(s.BodyText, "\n\n", "\n  \n")
		body = strings.ReplaceAll(body, ". ", ".  ")
		body = strings.ReplaceAll(body, "'", "\u2019")
		body = strings.ReplaceAll(body, " — ", " -- ")
		if b.rng.IntN(2) == 0 {
			body = strings.ReplaceAll(body, ", ", " ,\u00a0")
		}
		s.BodyText = "  " + body + "\n"
	case "copy_boilerplate":
		if b.rng.IntN(2) == 0 {
			s.BodyText = strings.Replace(s.BodyText, " — ", " (AP) — ", 1) +
				"\n\nCopyright 2026 The Associated Press. All rights reserved."
		} else {
			s.BodyText = strings.Replace(s.BodyText, " — ", " (Reuters) - ", 1) +
				"\n\n(Reporting by Hannah Kerr; Editing by Tom Hale)"
		}
	case "copy_trimmed":
		paras := strings.Split(s.BodyText, "\n\n")
		last := paras[len(paras)-1]
		if i := strings.Index(last, ". "); i > 0 && len(paras) < 5 {
			paras[len(paras)-1] = last[:i+1] // cut the last sentence
		} else {
			paras = paras[:len(paras)-1] // cut the last paragraph
		}
		s.BodyText = strings.Join(paras, "\n\n")
	case "copy_headline":
		s.Headline = reword(s.Headline)
	}
}

var synonyms = map[string]string{
	"rose": "climbed", "fell": "dropped", "rise": "climb", "falls": "drops", "beat": "defeat",
	"as": "while", "after": "following", "to": "toward", "on": "amid", "win": "victory",
	"cut": "lower", "holds": "keeps", "begins": "opens", "agree": "back", "calls": "presses",
}

func reword(h string) string {
	words := strings.Fields(h)
	changed := false
	for i, w := range words {
		if r, ok := synonyms[strings.ToLower(w)]; ok {
			words[i], changed = r, true
		}
	}
	out := strings.Join(words, " ")
	if !changed {
		out = "Report: " + out
	}
	return out
}
