// Package deploy_test checks the deployment files under deploy/: the compose
// setup (deploy/compose), the Kubernetes manifests and the values for the
// NATS Helm chart (deploy/kubernetes). No container engine or cluster is
// needed: every YAML file is parsed (all documents of it) and the fields the
// pipeline depends on are checked, and every wirestream flag the files use is
// checked against `wirestream run --help`, so that the manifests stay in step
// with the CLI. docs/deploy.md explains the files.
package deploy_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
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
	// minMaxPayload is the embedded server's max_payload (pipeline.ServerConfig):
	// oversize raw stories are stored and dead-lettered by ingest, not refused.
	minMaxPayload = 8 << 20
	// templateAnnotation marks a Secret whose data are placeholders.
	templateAnnotation = "wirestream.io/template"
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

// k8sVar is a $(VAR) reference in a container's args.
var k8sVar = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandK8s expands $(VAR) as the kubelet does, from the container's
// environment; an unknown variable is an error (the kubelet would leave it
// as is, a certain mistake here).
func expandK8s(s string, env map[string]string) (string, error) {
	var missing []string
	out := k8sVar.ReplaceAllStringFunc(s, func(m string) string {
		name := k8sVar.FindStringSubmatch(m)[1]
		v, ok := env[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if missing != nil {
		return "", fmt.Errorf("%q: no environment variable %s in the container", s, strings.Join(missing, ", "))
	}
	return out, nil
}

// composeVar is ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}.
var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate applies compose's interpolation with every variable unset: the
// defaults are what a plain `docker compose up` uses. A required variable
// (:?) is an error.
func interpolate(s string) (string, error) {
	var err error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		sm := composeVar.FindStringSubmatch(m)
		switch {
		case strings.HasSuffix(sm[2], "-"):
			return sm[3]
		case strings.HasSuffix(sm[2], "?"):
			err = fmt.Errorf("%q requires %s to be set", s, sm[1])
			return ""
		}
		return ""
	})
	return strings.ReplaceAll(out, "$$", "$"), err
}

// ---- Kubernetes: Deployments ---------------------------------------------------

// container is a wirestream container of a Deployment, args expanded.
type container struct {
	obj        object
	name       string
	args       []string // command + args, $(VAR) expanded
	positional []string
	flags      []cliFlag
	env        map[string]string // literal values known from the manifests
	raw        map[string]any
}

// configMaps returns the data of every ConfigMap by name.
func configMaps(t *testing.T) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, o := range objectsOfKind(t, "ConfigMap") {
		data := map[string]string{}
		for k, v := range mapping(get(o.v, "data")) {
			data[k] = str(v)
		}
		out[o.name] = data
	}
	return out
}

// wirestreamContainers returns the wirestream container of every
// Deployment (the one whose args start with "run"), with its environment
// resolved from literal values and ConfigMaps.
func wirestreamContainers(t *testing.T) []container {
	t.Helper()
	cms := configMaps(t)
	var out []container
	for _, o := range objectsOfKind(t, "Deployment") {
		var found int
		for _, c := range list(get(o.v, "spec", "template", "spec", "containers")) {
			args := append(stringList(get(c, "command")), stringList(get(c, "args"))...)
			if len(args) == 0 || (args[0] != "run" && !strings.HasSuffix(args[0], "wirestream")) {
				continue
			}
			found++
			env := map[string]string{}
			for _, ef := range list(get(c, "envFrom")) {
				if name := str(get(ef, "configMapRef", "name")); name != "" {
					for k, v := range cms[name] {
						env[str(get(ef, "prefix"))+k] = v
					}
				}
			}
			for _, e := range list(get(c, "env")) {
				name := str(get(e, "name"))
				if v := get(e, "value"); v != nil {
					env[name] = str(v)
				} else if ref := get(e, "valueFrom", "configMapKeyRef"); ref != nil {
					if v, ok := cms[str(get(ref, "name"))][str(get(ref, "key"))]; ok {
						env[name] = v
					}
				} else if get(e, "valueFrom") != nil {
					env[name] = "(from " + name + ")" // a secret or field: present, value unknown
				}
			}
			for i, a := range args {
				x, err := expandK8s(a, env)
				if err != nil {
					t.Errorf("%s: container %s: %v", o, str(get(c, "name")), err)
					continue
				}
				args[i] = x
			}
			if strings.HasSuffix(args[0], "wirestream") {
				args = args[1:]
			}
			pos, flags, err := parseArgs(args)
			if err != nil {
				t.Errorf("%s: args %q: %v", o, args, err)
			}
			out = append(out, container{obj: o, name: str(get(c, "name")), args: args,
				positional: pos, flags: flags, env: env, raw: mapping(c)})
		}
		if found != 1 {
			t.Errorf("%s: %d wirestream containers (args starting with run), want 1", o, found)
		}
	}
	return out
}

func TestManifestsParse(t *testing.T) {
	all := yamlDocs(t)
	for _, want := range []string{composeFile, prometheusFile, helmValuesFile, kustomizationFile} {
		if _, ok := all[want]; !ok {
			t.Errorf("deploy/%s is missing", want)
		}
	}
	for f := range all {
		if !strings.HasPrefix(f, "compose/") && !strings.HasPrefix(f, "kubernetes/") {
			t.Errorf("deploy/%s: a YAML file outside compose/ and kubernetes/ that no test checks", f)
		}
		if strings.HasPrefix(f, "compose/") && f != composeFile && f != prometheusFile {
			t.Errorf("deploy/%s: a compose YAML file no test checks", f)
		}
	}
	objs := objects(t)
	if len(objs) == 0 {
		t.Fatal("no Kubernetes objects under deploy/kubernetes")
	}
	seen := map[string]object{}
	for _, o := range objs {
		if str(get(o.v, "apiVersion")) == "" || o.kind == "" || o.name == "" {
			t.Errorf("%s: apiVersion, kind and metadata.name are required", o.doc)
		}
		if o.kind != "Namespace" && o.namespace != "wirestream" {
			t.Errorf("%s: metadata.namespace %q, want wirestream", o, o.namespace)
		}
		key := o.kind + "/" + o.name
		if prev, dup := seen[key]; dup {
			t.Errorf("%s: defined twice (also %s)", o, prev.doc)
		}
		seen[key] = o
	}
}

func TestDeployments(t *testing.T) {
	deps := objectsOfKind(t, "Deployment")
	if len(deps) == 0 {
		t.Fatal("no Deployment under deploy/kubernetes")
	}
	for _, o := range deps {
		if v := str(get(o.v, "apiVersion")); v != "apps/v1" {
			t.Errorf("%s: apiVersion %q, want apps/v1", o, v)
		}
		if n, err := strconv.Atoi(str(get(o.v, "spec", "replicas"))); err != nil || n < 1 {
			t.Errorf("%s: spec.replicas %q, want a number ≥ 1", o, str(get(o.v, "spec", "replicas")))
		}
		sel := mapping(get(o.v, "spec", "selector", "matchLabels"))
		labels := mapping(get(o.v, "spec", "template", "metadata", "labels"))
		if len(sel) == 0 {
			t.Errorf("%s: spec.selector.matchLabels is empty", o)
		}
		for k, v := range sel {
			if str(labels[k]) != str(v) {
				t.Errorf("%s: selector %s=%s does not match template label %q", o, k, str(v), str(labels[k]))
			}
		}
		ann := mapping(get(o.v, "spec", "template", "metadata", "annotations"))
		if str(ann["prometheus.io/scrape"]) != "true" || str(ann["prometheus.io/port"]) != strconv.Itoa(metricsPort) ||
			str(ann["prometheus.io/path"]) != "/metrics" {
			t.Errorf("%s: pod annotations prometheus.io/scrape, /port, /path = %q, %q, %q; want true, %d, /metrics",
				o, str(ann["prometheus.io/scrape"]), str(ann["prometheus.io/port"]), str(ann["prometheus.io/path"]), metricsPort)
		}
	}

	perStage := map[string][]string{}
	for _, c := range wirestreamContainers(t) {
		where := fmt.Sprintf("%s: container %s", c.obj, c.name)
		if str(c.raw["image"]) == "" {
			t.Errorf("%s: no image", where)
		}
		if len(c.positional) != 1 || c.positional[0] != "run" {
			t.Errorf("%s: positional arguments %q, want [run]", where, c.positional)
		}
		st := flagValues(c.flags, "stages")
		if len(st) != 1 || !slices.Contains(stages, st[0]) {
			t.Errorf("%s: --stages %q, want exactly one of %s", where, st, strings.Join(stages, ", "))
		} else {
			perStage[st[0]] = append(perStage[st[0]], c.obj.name)
			if comp := str(get(c.obj.v, "spec", "template", "metadata", "labels", "app.kubernetes.io/component")); comp != st[0] {
				t.Errorf("%s: runs --stages %s but its pods are labelled component %q", where, st[0], comp)
			}
		}
		if m := flagValues(c.flags, "metrics"); len(m) != 1 || !strings.HasSuffix(m[0], ":"+strconv.Itoa(metricsPort)) {
			t.Errorf("%s: --metrics %q, want one address on port %d", where, m, metricsPort)
		}
		checkProbe(t, where+": livenessProbe", get(c.raw, "livenessProbe"), healthPath)
		checkProbe(t, where+": readinessProbe", get(c.raw, "readinessProbe"), readyPath)
		if p := get(c.raw, "startupProbe"); p != nil {
			checkProbe(t, where+": startupProbe", p, healthPath)
		}
		for _, kind := range []string{"requests", "limits"} {
			for _, res := range []string{"cpu", "memory"} {
				if str(get(c.raw, "resources", kind, res)) == "" {
					t.Errorf("%s: resources.%s.%s is not set", where, kind, res)
				}
			}
		}
		if !natsCredsFromSecret(c.raw, mapping(get(c.obj.v, "spec", "template", "spec"))) {
			t.Errorf("%s: NATS credentials do not come from a Secret "+
				"(NATS_USER and NATS_PASSWORD, or NATS_NKEY, from secretKeyRef; or NATS_CREDS naming a file in a mounted Secret)", where)
		}
		if c.env["NATS_URL"] == "" && len(flagValues(c.flags, "nats")) == 0 {
			t.Errorf("%s: neither NATS_URL nor --nats: the process would start an embedded server", where)
		}
		if str(get(c.obj.v, "spec", "template", "spec", "securityContext", "runAsNonRoot")) != "true" {
			t.Errorf("%s: the pod does not set securityContext.runAsNonRoot", where)
		}
	}
	for _, s := range stages {
		if got := perStage[s]; len(got) != 1 {
			t.Errorf("stage %s: %d Deployments %q, want exactly 1", s, len(got), got)
		}
	}
}

// checkProbe wants an HTTP GET probe on path and port 9090 (by number, or by
// the name of a container port 9090, which the caller's container declares).
func checkProbe(t *testing.T, where string, p any, wantPath string) {
	t.Helper()
	if p == nil {
		t.Errorf("%s: missing", where)
		return
	}
	h := get(p, "httpGet")
	if h == nil {
		t.Errorf("%s: not an httpGet probe", where)
		return
	}
	if got := str(get(h, "path")); got != wantPath {
		t.Errorf("%s: path %q, want %s", where, got, wantPath)
	}
	if got := str(get(h, "port")); got != strconv.Itoa(metricsPort) {
		t.Errorf("%s: port %q, want %d", where, got, metricsPort)
	}
}

// natsCredsFromSecret reports whether a container takes its NATS
// credentials from a Secret: user and password (or an NKey seed) from
// secretKeyRef, or NATS_CREDS naming a file under a mounted Secret volume.
func natsCredsFromSecret(c map[string]any, pod map[string]any) bool {
	fromSecret := map[string]bool{}
	literal := map[string]string{}
	for _, e := range list(c["env"]) {
		name := str(get(e, "name"))
		if get(e, "valueFrom", "secretKeyRef", "name") != nil {
			fromSecret[name] = true
		} else if v := get(e, "value"); v != nil {
			literal[name] = str(v)
		}
	}
	for _, ef := range list(c["envFrom"]) {
		if get(ef, "secretRef", "name") != nil {
			return true // every key of the Secret becomes a variable
		}
	}
	if fromSecret["NATS_USER"] && fromSecret["NATS_PASSWORD"] || fromSecret["NATS_CREDS"] {
		return true
	}
	for _, file := range []string{literal["NATS_CREDS"], literal["NATS_NKEY"]} {
		if file == "" {
			continue
		}
		for _, vm := range list(c["volumeMounts"]) {
			dir := str(get(vm, "mountPath"))
			if !strings.HasPrefix(file, strings.TrimSuffix(dir, "/")+"/") {
				continue
			}
			for _, v := range list(pod["volumes"]) {
				if str(get(v, "name")) == str(get(vm, "name")) && get(v, "secret", "secretName") != nil {
					return true
				}
			}
		}
	}
	return false
}

// ---- Kubernetes: references, Secret template, kustomization --------------------

// ref is a reference to a ConfigMap or Secret (and optionally one key).
type ref struct {
	kind, name, key string
	optional        bool
	from            string
}

// refs collects every ConfigMap and Secret reference in v.
func refs(v any, from string) []ref {
	var out []ref
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch {
			case v["configMapKeyRef"] != nil:
				r := v["configMapKeyRef"]
				out = append(out, ref{"ConfigMap", str(get(r, "name")), str(get(r, "key")), str(get(r, "optional")) == "true", from})
			case v["secretKeyRef"] != nil:
				r := v["secretKeyRef"]
				out = append(out, ref{"Secret", str(get(r, "name")), str(get(r, "key")), str(get(r, "optional")) == "true", from})
			case v["configMapRef"] != nil:
				r := v["configMapRef"]
				out = append(out, ref{"ConfigMap", str(get(r, "name")), "", str(get(r, "optional")) == "true", from})
			case v["secretRef"] != nil:
				r := v["secretRef"]
				out = append(out, ref{"Secret", str(get(r, "name")), "", str(get(r, "optional")) == "true", from})
			}
			if s, ok := v["secret"].(map[string]any); ok && s["secretName"] != nil {
				out = append(out, ref{"Secret", str(s["secretName"]), "", str(s["optional"]) == "true", from})
				for _, it := range list(s["items"]) {
					out = append(out, ref{"Secret", str(s["secretName"]), str(get(it, "key")), str(s["optional"]) == "true", from})
				}
			}
			if cm, ok := v["configMap"].(map[string]any); ok && cm["name"] != nil {
				out = append(out, ref{"ConfigMap", str(cm["name"]), "", str(cm["optional"]) == "true", from})
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// dataKeys returns the keys of a ConfigMap's or Secret's data.
func dataKeys(o object) map[string]bool {
	keys := map[string]bool{}
	for _, field := range []string{"data", "stringData", "binaryData"} {
		for k := range mapping(get(o.v, field)) {
			keys[k] = true
		}
	}
	return keys
}

func TestReferencesExist(t *testing.T) {
	defined := map[string]object{}
	for _, o := range objects(t) {
		if o.kind == "ConfigMap" || o.kind == "Secret" {
			defined[o.kind+"/"+o.name] = o
		}
	}
	var all []ref
	for _, o := range objects(t) {
		all = append(all, refs(o.v, o.String())...)
	}
	// The NATS servers of the Helm chart read the same Secret.
	all = append(all, refs(fileDoc(t, helmValuesFile).v, helmValuesFile)...)
	if len(all) == 0 {
		t.Fatal("no ConfigMap or Secret reference at all")
	}
	for _, r := range all {
		o, ok := defined[r.kind+"/"+r.name]
		switch {
		case !ok && !r.optional:
			t.Errorf("%s: %s %q is not defined under deploy/kubernetes", r.from, r.kind, r.name)
		case ok && r.key != "" && !dataKeys(o)[r.key] && !r.optional:
			t.Errorf("%s: %s %q has no key %q (it has %v)", r.from, r.kind, r.name, r.key, keysOf(dataKeys(o)))
		}
	}
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// kustomizeResources returns the files kustomization.yaml lists.
func kustomizeResources(t *testing.T) []string {
	k := fileDoc(t, kustomizationFile)
	var out []string
	for _, r := range stringList(get(k.v, "resources")) {
		out = append(out, path.Join("kubernetes", r))
	}
	return out
}

func TestSecretTemplates(t *testing.T) {
	inKustomize := kustomizeResources(t)
	secrets := objectsOfKind(t, "Secret")
	if len(secrets) == 0 {
		t.Fatal("no Secret (or Secret template) under deploy/kubernetes")
	}
	for _, o := range secrets {
		placeholder := false
		for _, field := range []string{"data", "stringData"} {
			for _, v := range mapping(get(o.v, field)) {
				if strings.Contains(strings.ToUpper(str(v)), "REPLACE") || strings.Contains(strings.ToUpper(str(v)), "CHANGE") {
					placeholder = true
				}
			}
		}
		marked := str(get(o.v, "metadata", "annotations", templateAnnotation)) != ""
		if placeholder && !marked {
			t.Errorf("%s: placeholder values but no %s annotation", o, templateAnnotation)
		}
		if marked && slices.Contains(inKustomize, o.file) {
			t.Errorf("%s: a template Secret listed in %s: `kubectl apply -k` would overwrite the real one", o, kustomizationFile)
		}
		if marked && !strings.Contains(o.file, "example") {
			t.Errorf("%s: a template Secret should live in a *.example.yaml file", o)
		}
	}
}

func TestKustomization(t *testing.T) {
	k := fileDoc(t, kustomizationFile)
	if str(get(k.v, "namespace")) != "wirestream" {
		t.Errorf("%s: namespace %q, want wirestream", k, str(get(k.v, "namespace")))
	}
	listed := kustomizeResources(t)
	all := yamlDocs(t)
	for _, f := range listed {
		if _, ok := all[f]; !ok {
			t.Errorf("%s lists %s, which does not exist", kustomizationFile, f)
		}
	}
	// Everything the pipeline needs must be applied by `kubectl apply -k`.
	for _, o := range objects(t) {
		switch o.kind {
		case "Deployment", "ConfigMap", "Namespace":
			if !slices.Contains(listed, o.file) {
				t.Errorf("%s: not listed in %s", o, kustomizationFile)
			}
		}
	}
	images := map[string]bool{}
	for _, im := range list(get(k.v, "images")) {
		images[str(get(im, "name"))] = true
	}
	for _, c := range wirestreamContainers(t) {
		if img := str(c.raw["image"]); !images[img] {
			t.Errorf("%s: image %q has no entry in %s images (where the real image is set)", c.obj, img, kustomizationFile)
		}
	}
}

func TestPodMonitor(t *testing.T) {
	for _, o := range objectsOfKind(t, "PodMonitor") {
		for _, ep := range list(get(o.v, "spec", "podMetricsEndpoints")) {
			if str(get(ep, "path")) != "/metrics" {
				t.Errorf("%s: path %q, want /metrics", o, str(get(ep, "path")))
			}
			port := str(get(ep, "port"))
			// The named port must be a container port 9090 of the selected pods.
			ok := false
			for _, c := range wirestreamContainers(t) {
				for _, p := range list(c.raw["ports"]) {
					if str(get(p, "name")) == port && str(get(p, "containerPort")) == strconv.Itoa(metricsPort) {
						ok = true
					}
				}
			}
			if !ok {
				t.Errorf("%s: port %q is not a container port %d of the stages", o, port, metricsPort)
			}
		}
	}
}

// ---- Helm values for the NATS chart ------------------------------------------

func TestHelmValues(t *testing.T) {
	v := fileDoc(t, helmValuesFile)
	checks := []struct {
		path []any
		want string
	}{
		{[]any{"config", "cluster", "enabled"}, "true"},
		{[]any{"config", "cluster", "replicas"}, clusterReplicas},
		{[]any{"config", "jetstream", "enabled"}, "true"},
		{[]any{"config", "jetstream", "fileStore", "enabled"}, "true"},
		{[]any{"config", "jetstream", "fileStore", "pvc", "enabled"}, "true"},
	}
	for _, c := range checks {
		if got := str(get(v.v, c.path...)); got != c.want {
			t.Errorf("%s: %s = %q, want %s", v, dotted(c.path), got, c.want)
		}
	}
	if mp := str(get(v.v, "config", "merge", "max_payload")); !strings.Contains(strings.ReplaceAll(mp, " ", ""), "<<8MB>>") {
		t.Errorf("%s: config.merge.max_payload %q, want << 8MB >> (as the embedded server)", v, mp)
	}
	if str(get(v.v, "config", "jetstream", "fileStore", "pvc", "size")) == "" {
		t.Errorf("%s: config.jetstream.fileStore.pvc.size is not set", v)
	}
	// Accounts: whichever account the stages' user is in must have JetStream.
	for name, acc := range mapping(get(v.v, "config", "merge", "accounts")) {
		if len(list(get(acc, "users"))) > 0 && name != "SYS" && str(get(acc, "jetstream")) != "enabled" && str(get(acc, "jetstream")) != "true" {
			t.Errorf("%s: account %s has users but JetStream is not enabled for it", v, name)
		}
	}
}

func dotted(p []any) string {
	var s []string
	for _, k := range p {
		s = append(s, fmt.Sprint(k))
	}
	return strings.Join(s, ".")
}

// ---- compose -------------------------------------------------------------------

// service is a compose service, with interpolated command and environment.
type service struct {
	name    string
	raw     map[string]any
	command []string
	env     map[string]string
}

func composeServices(t *testing.T) (nats, ws []service) {
	t.Helper()
	d := fileDoc(t, composeFile)
	svcs := mapping(get(d.v, "services"))
	if len(svcs) == 0 {
		t.Fatalf("%s: no services", d)
	}
	names := make([]string, 0, len(svcs))
	for n := range svcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		raw := mapping(svcs[n])
		s := service{name: n, raw: raw, env: map[string]string{}}
		switch c := raw["command"].(type) {
		case string:
			s.command = strings.Fields(c)
		default:
			s.command = stringList(c)
		}
		for i, a := range s.command {
			x, err := interpolate(a)
			if err != nil {
				t.Errorf("%s: service %s: %v", d, n, err)
			}
			s.command[i] = x
		}
		switch e := raw["environment"].(type) {
		case map[string]any:
			for k, v := range e {
				s.env[k] = str(v)
			}
		case []any:
			for _, kv := range e {
				k, v, _ := strings.Cut(str(kv), "=")
				s.env[k] = v
			}
		}
		for k, v := range s.env {
			x, err := interpolate(v)
			if err != nil {
				t.Errorf("%s: service %s: %v", d, n, err)
			}
			s.env[k] = x
		}
		image, _ := interpolate(str(raw["image"]))
		switch {
		case image == "nats" || strings.HasPrefix(image, "nats:"):
			nats = append(nats, s)
		case get(raw, "build") != nil || strings.Contains(image, "wirestream"):
			ws = append(ws, s)
		}
	}
	return nats, ws
}

func TestComposeNATSCluster(t *testing.T) {
	nats, _ := composeServices(t)
	if len(nats) != 3 {
		t.Fatalf("%s: %d NATS services, want 3", composeFile, len(nats))
	}
	names := map[string]bool{}
	for _, s := range nats {
		names[s.name] = true
	}
	volumes := mapping(get(fileDoc(t, composeFile).v, "volumes"))
	serverNames := map[string]bool{}
	clusterNames := map[string]bool{}
	for _, s := range nats {
		where := composeFile + ": service " + s.name
		// Parse the command line with nats-server's own flag parser, and the
		// config file it names from its bind mount.
		args, err := hostConfigPaths(s)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		fset := flag.NewFlagSet("nats-server", flag.ContinueOnError)
		fset.SetOutput(io.Discard)
		noop := func() {}
		opts, err := server.ConfigureOptions(fset, args, noop, noop, noop)
		if err != nil {
			t.Errorf("%s: nats-server rejects the command %q: %v", where, s.command, err)
			continue
		}
		if opts.MaxPayload < minMaxPayload {
			t.Errorf("%s: max_payload %d, want at least %d (as the embedded server)", where, opts.MaxPayload, minMaxPayload)
		}
		if !opts.JetStream {
			t.Errorf("%s: JetStream is not enabled (--jetstream)", where)
		}
		if opts.StoreDir == "" {
			t.Errorf("%s: no --store_dir", where)
		} else if !storeOnVolume(s, opts.StoreDir, volumes) {
			t.Errorf("%s: store %s is not on a named volume", where, opts.StoreDir)
		}
		if opts.ServerName == "" {
			t.Errorf("%s: no --name (JetStream clustering needs a unique server name)", where)
		}
		if serverNames[opts.ServerName] {
			t.Errorf("%s: server name %q used twice", where, opts.ServerName)
		}
		serverNames[opts.ServerName] = true
		if opts.Cluster.Port == 0 || opts.Cluster.Name == "" {
			t.Errorf("%s: no cluster listener or cluster name (--cluster, --cluster_name)", where)
		}
		clusterNames[opts.Cluster.Name] = true
		routed := map[string]bool{}
		for _, r := range opts.Routes {
			if r.Port() != strconv.Itoa(opts.Cluster.Port) {
				t.Errorf("%s: route %s is not on the cluster port %d", where, r.Redacted(), opts.Cluster.Port)
			}
			routed[r.Hostname()] = true
		}
		for other := range names {
			if other != s.name && !routed[other] {
				t.Errorf("%s: no route to %s (routes %v)", where, other, keysOf(routed))
			}
		}
		if opts.HTTPPort == 0 {
			t.Errorf("%s: no --http_port (the health check uses /healthz)", where)
		}
	}
	if len(clusterNames) != 1 {
		t.Errorf("%s: cluster names %v, want one", composeFile, keysOf(clusterNames))
	}
}

// hostConfigPaths returns a NATS service's command with the path of a
// --config file replaced by the host file bind-mounted there.
func hostConfigPaths(s service) ([]string, error) {
	args := slices.Clone(s.command)
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		var p string
		switch {
		case name == "c" || name == "config":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s without a file", args[i])
			}
			i++
			p = args[i]
		case strings.HasPrefix(name, "c=") || strings.HasPrefix(name, "config="):
			_, p, _ = strings.Cut(args[i], "=")
		default:
			continue
		}
		host := ""
		for _, v := range list(s.raw["volumes"]) {
			parts := strings.Split(str(v), ":")
			if len(parts) >= 2 && parts[1] == p && (strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")) {
				host = filepath.Join("compose", parts[0])
			}
		}
		if host == "" {
			return nil, fmt.Errorf("config file %s is not bind-mounted from a file next to %s", p, composeFile)
		}
		if strings.HasSuffix(args[i], "="+p) {
			args[i] = strings.TrimSuffix(args[i], p) + host
		} else {
			args[i] = host
		}
	}
	return args, nil
}

// storeOnVolume reports whether dir is at or under a mount of a named volume.
func storeOnVolume(s service, dir string, volumes map[string]any) bool {
	for _, v := range list(s.raw["volumes"]) {
		var src, dst string
		if m := mapping(v); m != nil {
			src, dst = str(m["source"]), str(m["target"])
		} else {
			parts := strings.Split(str(v), ":")
			if len(parts) < 2 {
				continue
			}
			src, dst = parts[0], parts[1]
		}
		if _, named := volumes[src]; named && (dir == dst || strings.HasPrefix(dir, strings.TrimSuffix(dst, "/")+"/")) {
			return true
		}
	}
	return false
}

func TestComposeStages(t *testing.T) {
	nats, ws := composeServices(t)
	natsNames := map[string]bool{}
	for _, s := range nats {
		natsNames[s.name] = true
	}
	perStage := map[string][]string{}
	for _, s := range ws {
		where := composeFile + ": service " + s.name
		pos, flags, err := parseArgs(s.command)
		if err != nil {
			t.Errorf("%s: command %q: %v", where, s.command, err)
			continue
		}
		if len(pos) != 1 || pos[0] != "run" {
			t.Errorf("%s: positional arguments %q, want [run]", where, pos)
		}
		st := flagValues(flags, "stages")
		if len(st) != 1 || !slices.Contains(stages, st[0]) {
			t.Errorf("%s: --stages %q, want exactly one of %s", where, st, strings.Join(stages, ", "))
		} else {
			perStage[st[0]] = append(perStage[st[0]], s.name)
		}
		// NATS_URL names all three servers.
		hosts := map[string]bool{}
		for _, u := range strings.Split(s.env["NATS_URL"], ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Scheme != "nats" && pu.Scheme != "tls" {
				t.Errorf("%s: NATS_URL entry %q is not a nats:// URL", where, u)
				continue
			}
			hosts[pu.Hostname()] = true
		}
		for n := range natsNames {
			if !hosts[n] {
				t.Errorf("%s: NATS_URL %q does not name %s", where, s.env["NATS_URL"], n)
			}
		}
		if len(flagValues(flags, "nats")) > 0 {
			t.Errorf("%s: --nats in the command; configure NATS_URL in the environment", where)
		}
		if n, err := strconv.Atoi(str(get(s.raw, "deploy", "replicas"))); err != nil || n < 1 {
			t.Errorf("%s: deploy.replicas %q, want a number ≥ 1", where, str(get(s.raw, "deploy", "replicas")))
		}
		if m := flagValues(flags, "metrics"); len(m) != 1 || !strings.HasSuffix(m[0], ":"+strconv.Itoa(metricsPort)) {
			t.Errorf("%s: --metrics %q, want one address on port %d", where, m, metricsPort)
		}
		if hc := strings.Join(stringList(get(s.raw, "healthcheck", "test")), " "); !strings.Contains(hc, fmt.Sprintf(":%d%s", metricsPort, readyPath)) {
			t.Errorf("%s: healthcheck %q does not probe :%d%s", where, hc, metricsPort, readyPath)
		}
		for n := range natsNames {
			if get(s.raw, "depends_on", n) == nil {
				t.Errorf("%s: does not depend on %s", where, n)
			}
		}
		if df := str(get(s.raw, "build", "dockerfile")); df != "" {
			ctx := str(get(s.raw, "build", "context"))
			p := filepath.Join("compose", ctx, df)
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: build dockerfile: %v", where, err)
			}
			if _, err := os.Stat(filepath.Join("compose", ctx, "go.mod")); err != nil {
				t.Errorf("%s: build context %s is not the repository root", where, ctx)
			}
		}
	}
	for _, s := range stages {
		if got := perStage[s]; len(got) != 1 {
			t.Errorf("%s: stage %s has %d services %q, want exactly 1", composeFile, s, len(got), got)
		}
	}
}

func TestComposePrometheus(t *testing.T) {
	p := fileDoc(t, prometheusFile)
	_, ws := composeServices(t)
	found := map[string]bool{}
	for _, sc := range list(get(p.v, "scrape_configs")) {
		if str(get(sc, "metrics_path")) != "/metrics" && get(sc, "metrics_path") != nil {
			continue
		}
		for _, dsd := range list(get(sc, "dns_sd_configs")) {
			if str(get(dsd, "port")) != strconv.Itoa(metricsPort) {
				t.Errorf("%s: dns_sd_configs port %q, want %d", p, str(get(dsd, "port")), metricsPort)
			}
			for _, n := range stringList(get(dsd, "names")) {
				found[n] = true
			}
		}
	}
	for _, s := range ws {
		if !found[s.name] {
			t.Errorf("%s: stage service %s is not scraped", p, s.name)
		}
	}
	if get(fileDoc(t, composeFile).v, "services", "prometheus", "profiles") == nil {
		t.Errorf("%s: the prometheus service should be optional (a profile)", composeFile)
	}
}

// ---- every process: the same stream settings ------------------------------------

// TestSameStreamSettings: every process of every stage creates the streams
// with its own settings, so --replicas, --history-max-age and --node-subjects must agree in
// each setup, and --replicas is 3 on the three-node clusters.
func TestSameStreamSettings(t *testing.T) {
	type proc struct {
		where string
		flags []cliFlag
	}
	var k8s, compose []proc
	for _, c := range wirestreamContainers(t) {
		k8s = append(k8s, proc{c.obj.String(), c.flags})
	}
	_, ws := composeServices(t)
	for _, s := range ws {
		_, flags, _ := parseArgs(s.command)
		compose = append(compose, proc{composeFile + ": service " + s.name, flags})
	}
	for setup, procs := range map[string][]proc{"kubernetes": k8s, "compose": compose} {
		for _, name := range []string{"replicas", "history-max-age", "node-subjects"} {
			values := map[string][]string{}
			for _, p := range procs {
				v := flagValues(p.flags, name)
				key := strings.Join(v, ",")
				if len(v) == 0 {
					key = "(default)"
				}
				values[key] = append(values[key], p.where)
			}
			if len(values) != 1 {
				t.Errorf("%s: --%s differs between processes: %v", setup, name, values)
			}
			if name == "replicas" {
				for v, where := range values {
					if v != clusterReplicas {
						t.Errorf("%s: --replicas %s in %v, want %s (three-node cluster)", setup, v, where, clusterReplicas)
					}
				}
			}
		}
	}
}

// ---- Dockerfile ----------------------------------------------------------------

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		from  string
		lines []string
	}
	var st []stage
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if strings.EqualFold(f[0], "FROM") {
			st = append(st, stage{from: strings.Join(f[1:], " ")})
			continue
		}
		if len(st) == 0 {
			t.Fatalf("%s: %q before the first FROM", dockerfile, line)
		}
		st[len(st)-1].lines = append(st[len(st)-1].lines, line)
	}
	if len(st) < 2 {
		t.Fatalf("%s: %d stages, want a multi-stage build", dockerfile, len(st))
	}
	if !strings.HasPrefix(st[0].from, "golang:1.26") {
		t.Errorf("%s: build stage FROM %s, want golang:1.26 (go.mod)", dockerfile, st[0].from)
	}
	build := strings.Join(st[0].lines, "\n")
	if !regexp.MustCompile(`go build [^\n]*\./cmd/wirestream`).MatchString(strings.ReplaceAll(build, "\\\n", " ")) {
		t.Errorf("%s: the build stage does not `go build ./cmd/wirestream`", dockerfile)
	}
	last := st[len(st)-1]
	if strings.HasPrefix(last.from, "golang") {
		t.Errorf("%s: the runtime image is the Go toolchain (%s)", dockerfile, last.from)
	}
	user := ""
	for _, l := range last.lines {
		if f := strings.Fields(l); strings.EqualFold(f[0], "USER") && len(f) > 1 {
			user = f[1]
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("%s: the runtime stage runs as %q, want a non-root USER", dockerfile, user)
	} else if _, err := strconv.Atoi(u); err != nil {
		t.Errorf("%s: USER %s: use a numeric uid, so that Kubernetes' runAsNonRoot can verify it", dockerfile, user)
	}
	if !strings.Contains(strings.Join(last.lines, "\n"), "COPY --from=") {
		t.Errorf("%s: the runtime stage copies nothing from the build stage", dockerfile)
	}
	ignore := dockerfile + ".dockerignore"
	if b, err := os.ReadFile(ignore); err != nil {
		t.Errorf("%s: %v (keeps .git and ./data out of the build context)", ignore, err)
	} else if !regexp.MustCompile(`(?m)^\.git$`).Match(b) {
		t.Errorf("%s: does not exclude .git", ignore)
	}
}

// ---- flags exist in the CLI ---------------------------------------------------------

// helpFlag matches a flag line of Go's flag.PrintDefaults ("  -name type").
var helpFlag = regexp.MustCompile(`(?m)^\s+-{1,2}([A-Za-z0-9][A-Za-z0-9_.-]*)\b`)

// TestFlagsExistInCLI runs `go run ./cmd/wirestream run --help` in the
// repository root and checks that every flag the deploy files give
// `wirestream run` is one the CLI has.
func TestFlagsExistInCLI(t *testing.T) {
	used := map[string][]string{} // flag -> where
	for _, c := range wirestreamContainers(t) {
		for _, f := range c.flags {
			used[f.name] = append(used[f.name], c.obj.String())
		}
	}
	_, ws := composeServices(t)
	for _, s := range ws {
		_, flags, _ := parseArgs(s.command)
		for _, f := range flags {
			used[f.name] = append(used[f.name], composeFile+": service "+s.name)
		}
	}
	if len(used) == 0 {
		t.Fatal("no wirestream flags found in the deploy files")
	}
	if testing.Short() {
		t.Skip("-short: skips building the CLI")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the CLI: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	cmd := exec.Command(goBin, "run", "./cmd/wirestream", "run", "--help")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./cmd/wirestream run --help: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	help := stdout.String() + stderr.String()
	known := map[string]bool{}
	for _, m := range helpFlag.FindAllStringSubmatch(help, -1) {
		known[m[1]] = true
	}
	if !known["stages"] || !known["nats"] {
		t.Fatalf("could not read the flags from `wirestream run --help`:\n%s", help)
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !known[n] {
			t.Errorf("--%s is not a flag of `wirestream run` (used in %s)", n, strings.Join(dedupe(used[n]), "; "))
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
