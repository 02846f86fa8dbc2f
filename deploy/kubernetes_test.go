package deploy_test

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// templateAnnotation marks a Secret whose data are placeholders.
const templateAnnotation = "wirestream.io/template"

// ---- Kubernetes: Deployments ---------------------------------------------------

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
		if st := checkRunCommand(t, where, c.positional, c.flags); st != "" {
			perStage[st] = append(perStage[st], c.obj.name)
			if comp := str(get(c.obj.v, "spec", "template", "metadata", "labels", "app.kubernetes.io/component")); comp != st {
				t.Errorf("%s: runs --stages %s but its pods are labelled component %q", where, st, comp)
			}
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
			t.Errorf("%s: %s %q has no key %q (it has %v)", r.from, r.kind, r.name, r.key, sortedKeys(dataKeys(o)))
		}
	}
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
