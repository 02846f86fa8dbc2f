package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ---- every YAML file is one a test checks ---------------------------------------

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

// ---- every process: the same stream settings ------------------------------------

// process is one wirestream process the deploy files start: the wirestream
// container of a Deployment or a stage service of the compose file.
type process struct {
	setup string // "kubernetes" or "compose"
	where string
	flags []cliFlag
}

// processes returns every wirestream process of both setups, the Kubernetes
// ones first.
func processes(t *testing.T) []process {
	t.Helper()
	var out []process
	for _, c := range wirestreamContainers(t) {
		out = append(out, process{"kubernetes", c.obj.String(), c.flags})
	}
	_, ws := composeServices(t)
	for _, s := range ws {
		_, flags, _ := parseArgs(s.command)
		out = append(out, process{"compose", composeFile + ": service " + s.name, flags})
	}
	return out
}

// TestSameStreamSettings: every process of every stage creates the streams
// with its own settings, so --replicas, --history-max-age and --node-subjects must agree in
// each setup, and --replicas is 3 on the three-node clusters.
func TestSameStreamSettings(t *testing.T) {
	bySetup := map[string][]process{}
	for _, p := range processes(t) {
		bySetup[p.setup] = append(bySetup[p.setup], p)
	}
	for _, setup := range []string{"kubernetes", "compose"} {
		procs := bySetup[setup]
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
	for _, p := range processes(t) {
		for _, f := range p.flags {
			used[f.name] = append(used[f.name], p.where)
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
	for _, n := range sortedKeys(used) {
		if !known[n] {
			t.Errorf("--%s is not a flag of `wirestream run` (used in %s)", n, strings.Join(sortedUnique(used[n]), "; "))
		}
	}
}

// sortedUnique sorts s and drops repeats.
func sortedUnique(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
