package deploy_test

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// minMaxPayload is the embedded server's max_payload (pipeline.ServerConfig):
// oversize raw stories are stored and dead-lettered by ingest, not refused.
const minMaxPayload = 8 << 20

// ---- compose -------------------------------------------------------------------

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
	for _, n := range sortedKeys(svcs) {
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
				t.Errorf("%s: no route to %s (routes %v)", where, other, sortedKeys(routed))
			}
		}
		if opts.HTTPPort == 0 {
			t.Errorf("%s: no --http_port (the health check uses /healthz)", where)
		}
	}
	if len(clusterNames) != 1 {
		t.Errorf("%s: cluster names %v, want one", composeFile, sortedKeys(clusterNames))
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
		if st := checkRunCommand(t, where, pos, flags); st != "" {
			perStage[st] = append(perStage[st], s.name)
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
