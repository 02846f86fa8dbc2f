package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wirestream/wirestream/proto"
)

// ninjsSchemas compiles IPTC's ninjs 2.2 and 3.1 schemas (shipped with
// their licence in proto/testdata/ninjs), asserting formats. GeoJSON
// geometry is left to a permissive stand-in so nothing is fetched.
func ninjsSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for format, file := range map[string]string{proto.FormatNinjs2: "ninjs-schema_2.2.json", proto.FormatNinjs3: "ninjs-schema_3.1.json"} {
		id := proto.Ninjs2Schema
		if format == proto.FormatNinjs3 {
			id = proto.Ninjs3Schema
		}
		f, err := os.Open(filepath.Join("..", "..", "proto", "testdata", "ninjs", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("https://geojson.org/schema/GeoJSON.json", map[string]any{}); err != nil {
			t.Fatal(err)
		}
		if out[format], err = c.Compile(id); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkNinjsLines validates each line tail printed in format against its
// IPTC schema and returns the stories printed, counted by uri@version.
func checkNinjsLines(t *testing.T, sch *jsonschema.Schema, format string, stdout []byte) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(stdout), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatalf("tail --format %s printed %q: %v", format, line, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("tail --format %s printed a line its schema refuses: %v\n%s", format, err, line)
		}
		var head struct {
			URI      string `json:"uri"`
			Version  string `json:"version"`
			Standard struct {
				Version string `json:"version"`
			} `json:"standard"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{proto.FormatNinjs2: "2.2", proto.FormatNinjs3: "3.1"}[format]; head.Standard.Version != want {
			t.Fatalf("tail --format %s printed standard version %q", format, head.Standard.Version)
		}
		got[head.URI+"@"+head.Version]++
	}
	return got
}
