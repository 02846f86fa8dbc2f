package ingest_test

import (
	"errors"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// fuzzFeed checks a page parser on any input: it never panics, an error
// wraps ErrInvalidFeed, every item has a version and a record, and the
// ingest stage either makes a story of each record or rejects it with a
// permanent error (so it is dead-lettered, never lost or retried forever).
func fuzzFeed(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add(readFeed(f, s))
	}
	f.Add([]byte(`<rss><channel><item><guid>a</guid><description>x</description></item></channel></rss>`))
	f.Add([]byte(`{"items":[{"id":"a","links":[{"type":"application/json","href":"/a"}]}],"next_page":"/n"}`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml"><div/></content></entry></feed>`))
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ingest.ParseFeed(data, format, ingest.FeedOptions{Feed: "fuzz"})
		if err != nil {
			if !errors.Is(err, ingest.ErrInvalidFeed) {
				t.Fatalf("error %v does not wrap ErrInvalidFeed", err)
			}
			return
		}
		for _, it := range p.Items {
			if it.Version == "" || len(it.Record) == 0 || it.Format == "" {
				t.Fatalf("item %+v lacks a version, record or format", it)
			}
			if it.Format != ingest.FeedCursorJSON && it.ID == "" {
				t.Fatalf("item without id: %+v", it)
			}
			if _, err := st.ParseAll(it.Record, it.Format); err != nil && !proto.IsPermanent(err) {
				t.Fatalf("record rejected with a transient error %v", err)
			}
		}
	})
}

func FuzzParseRSS(f *testing.F)        { fuzzFeed(f, ingest.FeedRSS, "rss.xml") }
func FuzzParseAtom(f *testing.F)       { fuzzFeed(f, ingest.FeedAtom, "atom.xml") }
func FuzzParseJSONFeed(f *testing.F)   { fuzzFeed(f, ingest.FeedJSONFeed, "jsonfeed.json") }
func FuzzParseCursorJSON(f *testing.F) { fuzzFeed(f, ingest.FeedCursorJSON, "cursor.json") }
func FuzzDetectFeed(f *testing.F) {
	fuzzFeed(f, ingest.FeedAuto, "rss.xml", "atom.xml", "jsonfeed.json", "cursor.json")
}
