package proto_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
)

// protoField is one field as story.proto declares it.
type protoField struct {
	typ      string
	repeated bool
}

var (
	messageRe = regexp.MustCompile(`(?s)message (\w+) \{(.*?)\n\}`)
	fieldRe   = regexp.MustCompile(`(?m)^\s*(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+);`)
)

func parseProtoFile(t *testing.T) map[string]map[string]protoField {
	t.Helper()
	src, err := os.ReadFile("story.proto")
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]map[string]protoField{}
	for _, m := range messageRe.FindAllStringSubmatch(string(src), -1) {
		fields := map[string]protoField{}
		for _, f := range fieldRe.FindAllStringSubmatch(m[2], -1) {
			key := f[4] + ":" + f[3] // number:name
			fields[key] = protoField{typ: f[2], repeated: f[1] != ""}
		}
		msgs[m[1]] = fields
	}
	return msgs
}

// goProtoType maps a Go field to the .proto scalar or message type its
// protobuf tag encodes.
func goProtoType(t *testing.T, f reflect.StructField) (string, bool) {
	typ := f.Type
	repeated := false
	if typ.Kind() == reflect.Slice {
		repeated = true
		typ = typ.Elem()
	}
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.String:
		return "string", repeated
	case reflect.Int32:
		return "int32", repeated
	case reflect.Int64:
		return "int64", repeated
	case reflect.Uint64:
		return "uint64", repeated
	case reflect.Float64:
		return "double", repeated
	case reflect.Struct:
		return typ.Name(), repeated
	}
	t.Fatalf("field %s: no .proto type for Go kind %s", f.Name, typ.Kind())
	return "", false
}

// TestProtoFileMatchesGoTypes fails when story.proto and the Go types drift:
// a field added, removed, renumbered or retyped on one side only.
func TestProtoFileMatchesGoTypes(t *testing.T) {
	msgs := parseProtoFile(t)
	for _, v := range []any{proto.Story{}, proto.Place{}, proto.Geometry{}, proto.Subject{}, proto.Dedupe{}, proto.Dateline{}} {
		rt := reflect.TypeOf(v)
		want, ok := msgs[rt.Name()]
		if !ok {
			t.Errorf("story.proto has no message %s", rt.Name())
			continue
		}
		seen := map[string]bool{}
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			tag := f.Tag.Get("protobuf")
			if tag == "" {
				t.Errorf("%s.%s has no protobuf tag", rt.Name(), f.Name)
				continue
			}
			parts := strings.Split(tag, ",")
			num, name := parts[1], strings.TrimPrefix(parts[3], "name=")
			key := num + ":" + name
			seen[key] = true
			pf, ok := want[key]
			if !ok {
				t.Errorf("%s.%s (%s) is not in story.proto", rt.Name(), f.Name, key)
				continue
			}
			typ, rep := goProtoType(t, f)
			if typ != pf.typ || rep != pf.repeated {
				t.Errorf("%s.%s: Go encodes %s (repeated=%v), story.proto says %s (repeated=%v)", rt.Name(), f.Name, typ, rep, pf.typ, pf.repeated)
			}
			if (parts[2] == "rep") != rep {
				t.Errorf("%s.%s: tag %q disagrees with the field's kind", rt.Name(), f.Name, tag)
			}
		}
		for key := range want {
			if !seen[key] {
				t.Errorf("story.proto %s field %s has no Go field", rt.Name(), key)
			}
		}
	}
}
