// Package deploy_test checks the deployment files under deploy/: the compose
// setup (deploy/compose), the Kubernetes manifests and the values for the
// NATS Helm chart (deploy/kubernetes). No container engine or cluster is
// needed: every YAML file is parsed (all documents of it) and the fields the
// pipeline depends on are checked, and every wirestream flag the files use is
// checked against `wirestream run --help`, so that the manifests stay in step
// with the CLI. docs/deploy.md explains the files.
//
// The tests are split by what they check:
//
//   - helpers_test.go: loading the YAML files, reading parsed YAML, parsing
//     command lines, and the checks every stage process shares;
//   - kubernetes_test.go: Deployments and their probes and credentials,
//     ConfigMap and Secret references, the Secret template, the
//     kustomization, the PodMonitor and the NATS Helm values;
//   - compose_test.go: the NATS cluster, the stage services and Prometheus;
//   - consistency_test.go: checks across files and setups: every file is
//     checked, the same stream settings everywhere, the Dockerfile, and the
//     flags the files use exist in the CLI.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// stages are the pipeline's stages (proto.Stages), each deployed on its own.
var stages = []string{"ingest", "dedupe", "tag", "publish"}

const (
	metricsPort = 9090
	healthPath  = "/healthz"
	readyPath   = "/readyz"
	// clusterReplicas is the stream replica count on the three-node cluster.
	clusterReplicas = "3"
)

// Files with a role of their own; every other YAML file under
// deploy/kubernetes holds Kubernetes objects.
const (
	composeFile       = "compose/compose.yaml"
	prometheusFile    = "compose/prometheus.yml"
	dockerfile        = "compose/Dockerfile"
	helmValuesFile    = "kubernetes/nats-values.yaml"
	kustomizationFile = "kubernetes/kustomization.yaml"
)

// ---- loading -----------------------------------------------------------------

// doc is one YAML document of a file under deploy/.
type doc struct {
	file  string // relative to deploy/, slash-separated
	index int    // 0-based position in the file
	v     map[string]any
}

func (d doc) String() string { return fmt.Sprintf("%s (document %d)", d.file, d.index+1) }

var (
	loadOnce sync.Once
	loaded   map[string][]doc
	loadErr  error
)

// yamlDocs parses every .yaml and .yml file under deploy/ (this directory),
// every document of each, once for all tests.
func yamlDocs(t *testing.T) map[string][]doc {
	t.Helper()
	loadOnce.Do(func() {
		loaded = map[string][]doc{}
		loadErr = filepath.WalkDir(".", func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return nil
			}
			docs, err := parseFile(p)
			if err != nil {
				return err
			}
			loaded[filepath.ToSlash(p)] = docs
			return nil
		})
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	if len(loaded) == 0 {
		t.Fatal("no YAML files under deploy/")
	}
	return loaded
}

func parseFile(p string) ([]doc, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []doc
	for i := 0; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", p, i+1, err)
		}
		if v == nil { // an empty document (a trailing ---)
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: document %d: top level is %T, want a mapping", p, i+1, v)
		}
		docs = append(docs, doc{file: filepath.ToSlash(p), index: i, v: m})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no YAML document", p)
	}
	return docs, nil
}

// fileDoc returns the single document of a special file.
func fileDoc(t *testing.T, name string) doc {
	t.Helper()
	docs, ok := yamlDocs(t)[name]
	if !ok {
		t.Fatalf("%s is missing", name)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", name, len(docs))
	}
	return docs[0]
}

// object is a Kubernetes object from a manifest.
type object struct {
	doc
	kind, name, namespace string
}

func (o object) String() string { return fmt.Sprintf("%s %s in %s", o.kind, o.name, o.doc) }

// objects returns the Kubernetes objects of every manifest under
// deploy/kubernetes, in file order.
func objects(t *testing.T) []object {
	t.Helper()
	all := yamlDocs(t)
	var files []string
	for f := range all {
		if strings.HasPrefix(f, "kubernetes/") && f != helmValuesFile && f != kustomizationFile {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	var out []object
	for _, f := range files {
		for _, d := range all[f] {
			out = append(out, object{doc: d, kind: str(get(d.v, "kind")),
				name: str(get(d.v, "metadata", "name")), namespace: str(get(d.v, "metadata", "namespace"))})
		}
	}
	return out
}

func objectsOfKind(t *testing.T, kind string) []object {
	var out []object
	for _, o := range objects(t) {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// ---- generic access to parsed YAML ------------------------------------------

// get walks maps by string key and lists by int index; nil when absent.
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			panic(fmt.Sprintf("get: key %v of type %T", k, k))
		}
	}
	return v
}

// str renders a scalar as YAML wrote it ("" for nil and collections).
func str(v any) string {
	switch v := v.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func mapping(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// stringList renders a YAML list (or a single scalar) as strings.
func stringList(v any) []string {
	switch v := v.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, str(e))
		}
		return out
	case nil:
		return nil
	default:
		return []string{str(v)}
	}
}

// ---- command lines -------------------------------------------------------------

// cliFlag is one flag on a command line.
type cliFlag struct{ name, value string }

// parseArgs splits a wirestream command line into positional arguments and
// flags. Every `wirestream run` flag takes a value (the CLI has no boolean
// ones), given as --name value or --name=value; one or two dashes.
func parseArgs(args []string) (positional []string, flags []cliFlag, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if name == "" {
			return nil, nil, fmt.Errorf("bare %q", a)
		}
		if n, v, ok := strings.Cut(name, "="); ok {
			flags = append(flags, cliFlag{n, v})
			continue
		}
		if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
			return nil, nil, fmt.Errorf("flag %s has no value", a)
		}
		flags = append(flags, cliFlag{name, args[i+1]})
		i++
	}
	return positional, flags, nil
}

func flagValues(flags []cliFlag, name string) []string {
	var out []string
	for _, f := range flags {
		if f.name == name {
			out = append(out, f.value)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ---- what every stage process shares -------------------------------------------

// checkRunCommand checks the command line of one stage process (a Deployment's
// container or a compose service): `run` and nothing else positional, exactly
// one stage in --stages, and one --metrics address on the metrics port. It
// returns the stage, or "" when --stages is not exactly one stage.
func checkRunCommand(t *testing.T, where string, positional []string, flags []cliFlag) string {
	t.Helper()
	if len(positional) != 1 || positional[0] != "run" {
		t.Errorf("%s: positional arguments %q, want [run]", where, positional)
	}
	stage := ""
	if st := flagValues(flags, "stages"); len(st) != 1 || !slices.Contains(stages, st[0]) {
		t.Errorf("%s: --stages %q, want exactly one of %s", where, st, strings.Join(stages, ", "))
	} else {
		stage = st[0]
	}
	if m := flagValues(flags, "metrics"); len(m) != 1 || !strings.HasSuffix(m[0], ":"+strconv.Itoa(metricsPort)) {
		t.Errorf("%s: --metrics %q, want one address on port %d", where, m, metricsPort)
	}
	return stage
}
