// Command medtopgen regenerates data/medtop.tsv from an IPTC Media Topics
// vocabulary file (cptall-en-GB.json, as published at
// https://cv.iptc.org/newscodes/mediatopic/ and in IPTC's repositories).
//
// It writes every top-level and every second-level concept that IPTC has not
// retired, plus any deeper concept listed in the -keep file (normally the
// current medtop.tsv, so that the concepts the lexicon uses are kept), with
// the labels of the given release:
//
//	go run ./stages/tag/topic/internal/medtopgen \
//	    -in cptall-en-GB.json -keep stages/tag/topic/data/medtop.tsv \
//	    -out stages/tag/topic/data/medtop.tsv
//
// Concepts of the -keep file that the release has retired or dropped are
// reported on stderr and left out; the lexicon must then be updated.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// vocabulary is the part of IPTC's JSON that medtopgen reads.
type vocabulary struct {
	DateReleased string    `json:"dateReleased"`
	LicenceLink  string    `json:"licenceLink"`
	Concepts     []concept `json:"conceptSet"`
}

type concept struct {
	QCode     string            `json:"qcode"`
	PrefLabel map[string]string `json:"prefLabel"`
	Broader   []string          `json:"broader"`
	Retired   string            `json:"retired"`
}

// row is one line of medtop.tsv.
type row struct{ code, parent, label string }

var errFormat = errors.New("medtopgen: unexpected vocabulary format")

func main() {
	in := flag.String("in", "", "IPTC cptall-en-GB.json")
	keep := flag.String("keep", "", "existing medtop.tsv whose deeper codes are kept (optional)")
	out := flag.String("out", "-", "output file, - for stdout")
	source := flag.String("source", "", "where the JSON was obtained, recorded in the header")
	flag.Parse()
	if *in == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *keep, *out, *source, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, keepPath, outPath, source string, warn io.Writer) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var v vocabulary
	if err := json.NewDecoder(f).Decode(&v); err != nil {
		return fmt.Errorf("%w: %v", errFormat, err)
	}
	keep := map[string]bool{}
	if keepPath != "" {
		if keep, err = readCodes(keepPath); err != nil {
			return err
		}
	}
	rows, missing, err := selectRows(v, keep)
	if err != nil {
		return err
	}
	for _, m := range missing {
		fmt.Fprintf(warn, "medtopgen: %s is retired or absent in this release; dropped\n", m)
	}
	w := os.Stdout
	if outPath != "-" {
		if w, err = os.Create(outPath); err != nil {
			return err
		}
		defer w.Close()
	}
	return write(w, v, source, rows)
}

// selectRows picks the rows to write and reports kept codes that are gone.
func selectRows(v vocabulary, keep map[string]bool) ([]row, []string, error) {
	byCode := map[string]row{}
	for _, c := range v.Concepts {
		code := strings.TrimPrefix(c.QCode, "medtop:")
		label := c.PrefLabel["en-GB"]
		if len(code) != 8 || label == "" {
			return nil, nil, fmt.Errorf("%w: concept %q", errFormat, c.QCode)
		}
		if c.Retired != "" {
			continue
		}
		parent := ""
		if len(c.Broader) > 0 {
			b := c.Broader[0]
			parent = b[strings.LastIndex(b, "/")+1:]
		}
		byCode[code] = row{code, parent, label}
	}
	depth := func(code string) int {
		d := 0
		for r, ok := byCode[code]; ok && d < 10; r, ok = byCode[r.parent] {
			d++
		}
		return d
	}
	want := map[string]bool{}
	for code := range byCode {
		if d := depth(code); d == 1 || d == 2 {
			want[code] = true
		}
	}
	var missing []string
	for code := range keep {
		if _, ok := byCode[code]; !ok {
			missing = append(missing, code)
			continue
		}
		// keep the code and every ancestor, so parents are always present
		for c := code; c != ""; c = byCode[c].parent {
			want[c] = true
		}
	}
	var rows []row
	for code := range want {
		rows = append(rows, byCode[code])
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].code < rows[j].code })
	sort.Strings(missing)
	return rows, missing, nil
}

func write(w io.Writer, v vocabulary, source string, rows []row) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# IPTC Media Topics (medtop) subset used by wirestream's topic tagger.\n#\n")
	fmt.Fprintf(bw, "# Source: IPTC Media Topic NewsCodes, cptall-en-GB.json, \"dateReleased\": %q\n", v.DateReleased)
	if source != "" {
		fmt.Fprintf(bw, "# (obtained from %s)\n", source)
	}
	fmt.Fprintf(bw, "# Copyright IPTC, International Press Telecommunications Council - https://iptc.org\n")
	fmt.Fprintf(bw, "# Licence: Creative Commons Attribution 4.0 International (CC BY 4.0), https://creativecommons.org/licenses/by/4.0/\n")
	fmt.Fprintf(bw, "# Changes: subset only (top-level and second-level concepts and the deeper concepts the\n# lexicon uses); definitions, mappings and retired concepts omitted. See SOURCES.md.\n#\n")
	fmt.Fprintf(bw, "# Format: code<TAB>broader code (empty for a top-level concept)<TAB>en-GB prefLabel\n")
	for _, r := range rows {
		fmt.Fprintf(bw, "%s\t%s\t%s\n", r.code, r.parent, r.label)
	}
	return bw.Flush()
}

// readCodes returns the codes of an existing medtop.tsv.
func readCodes(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	codes := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, _, _ := strings.Cut(line, "\t")
		codes[code] = true
	}
	return codes, nil
}
