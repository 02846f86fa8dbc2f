package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"golang.org/x/net/html/charset"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/internal/text"
)

// Feed page formats (the format of a feed in a --feeds file). A feed of
// FormatNinjs, FormatNewsML or FormatNITF serves one document, which is the
// feed's one item.
const (
	FeedAuto       = "auto"
	FeedRSS        = "rss"
	FeedAtom       = "atom"
	FeedJSONFeed   = "jsonfeed"
	FeedCursorJSON = "cursor-json"
)

// FeedFormats lists the formats a feed may name.
var FeedFormats = []string{FeedAuto, FeedRSS, FeedAtom, FeedJSONFeed, FeedCursorJSON, FormatNewsML, FormatNITF, FormatNinjs}

// ErrInvalidFeed is a feed page that cannot be read: malformed or truncated
// XML or JSON, or a document of none of the feed formats.
var ErrInvalidFeed = errors.New("ingest: invalid feed")

// FeedItem is one item of a feed page.
type FeedItem struct {
	// ID is the item's identity in its feed: the RSS guid (or link), the
	// Atom or JSON Feed id, the cursor feed's id; "document" for a feed
	// that serves one document.
	ID string
	// Version tells an item's versions apart: the provider's version or
	// updated date when it sends one, else a hash of the item's content,
	// so an edited item is a new version.
	Version string
	// Link is the item's web address, when it has one.
	Link string
	// Record is the raw input to publish for the item and Format its
	// Ws-Format. For RSS, Atom and JSON Feed the record is a small ninjs
	// document built from the item (HTML made text, categories as provider
	// subjects); for a cursor feed it is empty until the rendition at
	// Rendition is fetched.
	Record []byte
	Format string
	// Rendition is the link to the item's full text (cursor-json only).
	Rendition *Rendition
}

// Rendition is a link to one form of a cursor feed item.
type Rendition struct {
	Href   string // as given: may be relative to the page's URL
	Type   string // media type
	Format string // ninjs, newsml or nitf
}

// FeedPage is one parsed response of a feed.
type FeedPage struct {
	Format string // the format read (auto resolved)
	Items  []FeedItem
	// Next is the cursor feed's next_page link ("" for the other formats).
	Next string
}

// FeedOptions tune ParseFeed.
type FeedOptions struct {
	// Feed is the feed's name: categories become subjects of scheme
	// "feed:<Feed>".
	Feed string
	// Rendition is the preferred rendition format of cursor-json items
	// (ninjs, newsml or nitf); empty: ninjs, then newsml, then nitf.
	Rendition string
}

// DetectFeed tells the format of a feed page by its content: JSON Feed by
// its version, a cursor feed by items with links or a next_page, other JSON
// as ninjs; XML by its root element (rss, feed, nitf, newsItem or
// newsMessage). It returns "" for anything else.
func DetectFeed(data []byte) string {
	b := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(b) == 0 {
		return ""
	}
	if b[0] == '{' {
		var probe struct {
			Version  string            `json:"version"`
			NextPage *string           `json:"next_page"`
			Items    []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(b, &probe) != nil {
			return ""
		}
		switch {
		case strings.HasPrefix(probe.Version, "https://jsonfeed.org/version/"):
			return FeedJSONFeed
		case probe.NextPage != nil || probe.Items != nil:
			return FeedCursorJSON
		}
		return FormatNinjs
	}
	if b[0] != '<' {
		return ""
	}
	d := newXMLDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rss":
				return FeedRSS
			case "feed":
				return FeedAtom
			case "nitf":
				return FormatNITF
			case "newsItem", "newsMessage":
				return FormatNewsML
			}
			return ""
		}
	}
}

// ParseFeed reads one feed page of the given format (auto: DetectFeed).
// Errors wrap ErrInvalidFeed. Items the parser cannot make a story of are
// still returned (their records are rejected by the ingest stage with the
// reason, so they reach the dead-letter subject); only a page that cannot
// be read at all is an error.
func ParseFeed(data []byte, format string, o FeedOptions) (*FeedPage, error) {
	if format == "" || format == FeedAuto {
		format = DetectFeed(data)
		if format == "" {
			return nil, fmt.Errorf("%w: not RSS, Atom, JSON Feed, a cursor feed, ninjs, NewsML-G2 or NITF (%s)", ErrInvalidFeed, describeStart(data))
		}
	}
	var (
		p   *FeedPage
		err error
	)
	switch format {
	case FeedRSS:
		p, err = parseRSS(data, o)
	case FeedAtom:
		p, err = parseAtom(data, o)
	case FeedJSONFeed:
		p, err = parseJSONFeed(data, o)
	case FeedCursorJSON:
		p, err = parseCursorJSON(data, o)
	case FormatNinjs, FormatNewsML, FormatNITF:
		p = &FeedPage{Items: []FeedItem{{ID: "document", Version: contentHash(data), Record: data, Format: format}}}
	default:
		return nil, fmt.Errorf("%w: unknown feed format %q", ErrInvalidFeed, format)
	}
	if err != nil {
		return nil, err
	}
	p.Format = format
	return p, nil
}

func describeStart(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(b) == 0 {
		return "empty"
	}
	if len(b) > 16 {
		b = b[:16]
	}
	return fmt.Sprintf("starts %q", proto.Printable(string(b)))
}

func newXMLDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Entity = xml.HTMLEntity // &nbsp; and friends, common in feeds
	d.CharsetReader = charset.NewReaderLabel
	return d
}

func decodeXML(data []byte, v any) error {
	if err := newXMLDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	return nil
}

// contentHash is the version of an item that sends none: a hash of its
// bytes as the feed gave them.
func contentHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return "h" + hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// feedStory is the ninjs record built from an RSS, Atom or JSON Feed item.
type feedStory struct {
	URI            string          `json:"uri,omitempty"`
	Version        string          `json:"version,omitempty"`
	Type           string          `json:"type"`
	VersionCreated string          `json:"versioncreated,omitempty"`
	FirstCreated   string          `json:"firstcreated,omitempty"`
	Language       string          `json:"language,omitempty"`
	Headline       string          `json:"headline,omitempty"`
	Byline         string          `json:"byline,omitempty"`
	BodyText       string          `json:"body_text"`
	Subject        []proto.Subject `json:"subject,omitempty"`
}

// record builds the ninjs of an item. Dates the ingest stage cannot read
// are left out rather than failing the item.
func (f *feedStory) record() []byte {
	for _, d := range []*string{&f.VersionCreated, &f.FirstCreated} {
		if *d == "" {
			continue
		}
		t, ok := feedTime(*d)
		if !ok {
			*d = ""
			continue
		}
		*d = t.String()
	}
	if f.VersionCreated == "" {
		f.VersionCreated = f.FirstCreated
	}
	b, err := json.Marshal(f)
	if err != nil { // only strings: cannot happen
		panic(err)
	}
	return b
}

// rfc822Layouts are the dates of RSS (RFC 822 as RFC 1123 amended it, and
// the variants feeds send: a one-digit day, no weekday, named zones).
var rfc822Layouts = []string{
	time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST", "Mon, 02 Jan 2006 15:04 -0700", time.RFC822Z, time.RFC822,
}

// feedTime reads a feed's date: RFC 3339 (Atom, JSON Feed, Dublin Core) or
// RFC 822 (RSS).
func feedTime(s string) (proto.Time, bool) {
	s = strings.TrimSpace(s)
	// RFC 822 dates name their month; RFC 3339 ones are digits.
	if !strings.ContainsAny(s, "JFMASOND") {
		t, err := proto.ParseTime(s)
		return t, err == nil
	}
	for _, l := range rfc822Layouts {
		if t, err := time.Parse(l, s); err == nil {
			return proto.FromTime(t), true
		}
	}
	return 0, false
}

func subjects(feed string, cats []string) []proto.Subject {
	var out []proto.Subject
	seen := map[string]bool{}
	for _, c := range cats {
		c = NormalizeLine(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, proto.Subject{Name: c, Code: c, Scheme: "feed:" + feed})
	}
	return out
}

// htmlText is HTML made plain text. Without markup or entities it is the
// text with its white space collapsed, as HTML reads it, without the cost of
// a tokenizer (titles, most of them).
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	return text.HTMLToText(s)
}

// ---- RSS 2.0

const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsAtom    = "http://www.w3.org/2005/Atom"
)

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Channel struct {
		Language string    `xml:"language"`
		Items    []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description"`
	Encoded     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	GUID        string   `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Author      string   `xml:"author"`
	Creators    []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	DCDate      string   `xml:"http://purl.org/dc/elements/1.1/ date"`
	Categories  []string `xml:"category"`
	Inner       []byte   `xml:",innerxml"`
}

func parseRSS(data []byte, o FeedOptions) (*FeedPage, error) {
	var doc rssDoc
	if err := decodeXML(data, &doc); err != nil {
		return nil, err
	}
	p := &FeedPage{}
	for _, it := range doc.Channel.Items {
		id := strings.TrimSpace(it.GUID)
		link := strings.TrimSpace(it.Link)
		if id == "" {
			id = link
		}
		body := it.Encoded
		if strings.TrimSpace(body) == "" {
			body = it.Description
		}
		byline := strings.Join(it.Creators, ", ")
		if byline == "" {
			byline = it.Author
		}
		version := contentHash(it.Inner)
		if id == "" { // no guid, no link: the content is the identity
			id = version
		}
		date := it.PubDate
		if date == "" {
			date = it.DCDate
		}
		fs := feedStory{URI: itemURI(id, link), Version: version, Type: "text", VersionCreated: date,
			FirstCreated: date, Language: doc.Channel.Language, Headline: htmlText(it.Title),
			Byline: byline, BodyText: htmlText(body), Subject: subjects(o.Feed, it.Categories)}
		p.Items = append(p.Items, FeedItem{ID: id, Version: version, Link: link, Record: fs.record(), Format: FormatNinjs})
	}
	return p, nil
}

// itemURI is the uri of a feed item's story: its id when that is a URI (a
// guid is usually the permalink), else its link, else the id as it is.
func itemURI(id, link string) string {
	if strings.Contains(id, ":") {
		return id
	}
	if link != "" {
		return link
	}
	return id
}

// ---- Atom 1.0

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Authors []atomAuth  `xml:"http://www.w3.org/2005/Atom author"`
	Entries []atomEntry `xml:"http://www.w3.org/2005/Atom entry"`
}

type atomAuth struct {
	Name string `xml:"http://www.w3.org/2005/Atom name"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Text  string `xml:",chardata"`
	Inner string `xml:",innerxml"`
}

// plain returns an Atom text construct as plain text.
func (t atomText) plain() string {
	switch strings.ToLower(strings.TrimSpace(t.Type)) {
	case "html":
		return htmlText(t.Text)
	case "xhtml":
		return htmlText(t.Inner)
	}
	return NormalizeText(t.Text)
}

type atomEntry struct {
	ID         string     `xml:"http://www.w3.org/2005/Atom id"`
	Title      atomText   `xml:"http://www.w3.org/2005/Atom title"`
	Updated    string     `xml:"http://www.w3.org/2005/Atom updated"`
	Published  string     `xml:"http://www.w3.org/2005/Atom published"`
	Content    *atomText  `xml:"http://www.w3.org/2005/Atom content"`
	Summary    *atomText  `xml:"http://www.w3.org/2005/Atom summary"`
	Authors    []atomAuth `xml:"http://www.w3.org/2005/Atom author"`
	Categories []atomCat  `xml:"http://www.w3.org/2005/Atom category"`
	Links      []atomLink `xml:"http://www.w3.org/2005/Atom link"`
	Lang       string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Inner      []byte     `xml:",innerxml"`
}

type atomCat struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

func parseAtom(data []byte, o FeedOptions) (*FeedPage, error) {
	var doc atomDoc
	if err := decodeXML(data, &doc); err != nil {
		return nil, err
	}
	p := &FeedPage{}
	for _, e := range doc.Entries {
		var link string
		for _, l := range e.Links {
			if l.Rel == "" || l.Rel == "alternate" {
				link = strings.TrimSpace(l.Href)
				break
			}
		}
		id := strings.TrimSpace(e.ID)
		if id == "" {
			id = link
		}
		// Atom's updated changes when an entry is edited; the hash catches an
		// edit that forgot to change it.
		version := contentHash(e.Inner)
		if id == "" {
			id = version
		}
		body := ""
		if e.Content != nil {
			body = e.Content.plain()
		}
		if strings.TrimSpace(body) == "" && e.Summary != nil {
			body = e.Summary.plain()
		}
		authors := e.Authors
		if len(authors) == 0 {
			authors = doc.Authors
		}
		var names []string
		for _, a := range authors {
			if n := strings.TrimSpace(a.Name); n != "" {
				names = append(names, n)
			}
		}
		var cats []string
		for _, c := range e.Categories {
			if c.Label != "" {
				cats = append(cats, c.Label)
			} else {
				cats = append(cats, c.Term)
			}
		}
		lang := e.Lang
		if lang == "" {
			lang = doc.Lang
		}
		updated := e.Updated
		if updated == "" {
			updated = e.Published
		}
		published := e.Published
		if published == "" {
			published = updated
		}
		fs := feedStory{URI: itemURI(id, link), Version: version, Type: "text", VersionCreated: updated,
			FirstCreated: published, Language: lang, Headline: e.Title.plain(), Byline: strings.Join(names, ", "),
			BodyText: body, Subject: subjects(o.Feed, cats)}
		p.Items = append(p.Items, FeedItem{ID: id, Version: version, Link: link, Record: fs.record(), Format: FormatNinjs})
	}
	return p, nil
}

// ---- JSON Feed 1.1

type jsonFeedDoc struct {
	Version  string         `json:"version"`
	Language string         `json:"language"`
	Authors  []jsonFeedAuth `json:"authors"`
	Author   *jsonFeedAuth  `json:"author"` // 1.0
	Items    []jsonFeedItem `json:"items"`
}

type jsonFeedAuth struct {
	Name string `json:"name"`
}

type jsonFeedItem struct {
	ID            json.RawMessage `json:"id"` // a string; 1.0 feeds sometimes send a number
	URL           string          `json:"url"`
	Title         string          `json:"title"`
	ContentHTML   string          `json:"content_html"`
	ContentText   string          `json:"content_text"`
	Summary       string          `json:"summary"`
	DatePublished string          `json:"date_published"`
	DateModified  string          `json:"date_modified"`
	Authors       []jsonFeedAuth  `json:"authors"`
	Author        *jsonFeedAuth   `json:"author"`
	Tags          []string        `json:"tags"`
	Language      string          `json:"language"`
}

func parseJSONFeed(data []byte, o FeedOptions) (*FeedPage, error) {
	if err := proto.CheckJSONDepth(data, proto.DefaultLimits.JSONDepth); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	var doc jsonFeedDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	if doc.Items == nil {
		return nil, fmt.Errorf("%w: JSON Feed without items", ErrInvalidFeed)
	}
	p := &FeedPage{}
	for _, it := range doc.Items {
		raw, _ := json.Marshal(it) // the fields read, for the content hash
		id := jsonID(it.ID)
		if id == "" {
			id = strings.TrimSpace(it.URL)
		}
		version := contentHash(raw)
		if id == "" {
			id = version
		}
		body := htmlText(it.ContentHTML)
		if strings.TrimSpace(body) == "" {
			body = it.ContentText
		}
		if strings.TrimSpace(body) == "" {
			body = it.Summary
		}
		authors := it.Authors
		if len(authors) == 0 && it.Author != nil {
			authors = []jsonFeedAuth{*it.Author}
		}
		if len(authors) == 0 {
			authors = doc.Authors
			if len(authors) == 0 && doc.Author != nil {
				authors = []jsonFeedAuth{*doc.Author}
			}
		}
		var names []string
		for _, a := range authors {
			if n := strings.TrimSpace(a.Name); n != "" {
				names = append(names, n)
			}
		}
		lang := it.Language
		if lang == "" {
			lang = doc.Language
		}
		modified := it.DateModified
		if modified == "" {
			modified = it.DatePublished
		}
		fs := feedStory{URI: itemURI(id, it.URL), Version: version, Type: "text", VersionCreated: modified,
			FirstCreated: it.DatePublished, Language: lang, Headline: NormalizeLine(it.Title),
			Byline: strings.Join(names, ", "), BodyText: body, Subject: subjects(o.Feed, it.Tags)}
		p.Items = append(p.Items, FeedItem{ID: id, Version: version, Link: it.URL, Record: fs.record(), Format: FormatNinjs})
	}
	return p, nil
}

// jsonID reads an id given as a string or a number.
func jsonID(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// ---- cursor JSON (docs/feeds.md has the shape)

type cursorDoc struct {
	Items    *[]json.RawMessage `json:"items"`
	NextPage string             `json:"next_page"`
}

type cursorItem struct {
	ID      json.RawMessage `json:"id"`
	Version json.RawMessage `json:"version"`
	Updated string          `json:"updated"`
	Links   []cursorLink    `json:"links"`
}

type cursorLink struct {
	Rel    string `json:"rel"`
	Type   string `json:"type"`
	Format string `json:"format"`
	Href   string `json:"href"`
}

// renditionFormat maps a rendition link to the raw format of its document.
func renditionFormat(l cursorLink) string {
	switch strings.ToLower(strings.TrimSpace(l.Format)) {
	case FormatNinjs:
		return FormatNinjs
	case FormatNewsML, "newsml-g2":
		return FormatNewsML
	case FormatNITF:
		return FormatNITF
	}
	t := strings.ToLower(strings.TrimSpace(l.Type))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "application/ninjs+json", "application/json":
		return FormatNinjs
	case "application/vnd.iptc.g2.newsitem+xml", "application/vnd.iptc.g2.newsmessage+xml":
		return FormatNewsML
	case "application/nitf+xml", "application/vnd.iptc.nitf+xml":
		return FormatNITF
	}
	return ""
}

func parseCursorJSON(data []byte, o FeedOptions) (*FeedPage, error) {
	if err := proto.CheckJSONDepth(data, proto.DefaultLimits.JSONDepth); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	var doc cursorDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	if doc.Items == nil {
		return nil, fmt.Errorf("%w: cursor feed page without items", ErrInvalidFeed)
	}
	p := &FeedPage{Next: strings.TrimSpace(doc.NextPage)}
	order := []string{FormatNinjs, FormatNewsML, FormatNITF}
	if o.Rendition != "" {
		order = append([]string{o.Rendition}, order...)
	}
	for _, raw := range *doc.Items {
		var it cursorItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, fmt.Errorf("%w: item %d: %v", ErrInvalidFeed, len(p.Items), err)
		}
		id := jsonID(it.ID)
		version := jsonID(it.Version)
		if version == "" {
			version = strings.TrimSpace(it.Updated)
		}
		if version == "" {
			version = contentHash(raw)
		}
		var best *Rendition
		rank := len(order)
		for _, l := range it.Links {
			if l.Rel != "" && l.Rel != "rendition" {
				continue
			}
			f := renditionFormat(l)
			if f == "" || strings.TrimSpace(l.Href) == "" {
				continue
			}
			for r, want := range order {
				if f == want && r < rank {
					rank, best = r, &Rendition{Href: strings.TrimSpace(l.Href), Type: l.Type, Format: f}
				}
			}
		}
		// The record until the rendition is fetched: the item itself, which
		// the ingest stage rejects with the reason (no rendition, or why its
		// fetch failed) should it be published as it is.
		p.Items = append(p.Items, FeedItem{ID: id, Version: version, Rendition: best, Record: raw, Format: FeedCursorJSON})
	}
	return p, nil
}

// cursorItemError is the rejection of a cursor feed item published as it
// is: the poller publishes the item itself when it has no rendition it can
// fetch, with the reason of a failed fetch in ws_fetch_error, so that the
// item reaches the dead-letter subject named and explained.
func cursorItemError(data []byte) error {
	if err := proto.CheckJSONDepth(data, proto.DefaultLimits.JSONDepth); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	var it struct {
		ID         json.RawMessage `json:"id"`
		FetchError string          `json:"ws_fetch_error"`
		Links      []cursorLink    `json:"links"`
	}
	if err := json.Unmarshal(data, &it); err != nil {
		return fmt.Errorf("%w: cursor feed item: %v", ErrInvalidFeed, err)
	}
	id := brief(jsonID(it.ID))
	switch {
	case id == "":
		return fmt.Errorf("%w: cursor feed item without an id", ErrInvalidFeed)
	case it.FetchError != "":
		return fmt.Errorf("%w: cursor feed item %q: %s", ErrInvalidFeed, id, clip(it.FetchError, 256))
	}
	return fmt.Errorf("%w: cursor feed item %q has no rendition link of ninjs, NewsML-G2 or NITF", ErrInvalidFeed, id)
}
