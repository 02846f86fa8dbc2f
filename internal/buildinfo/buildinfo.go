// Package buildinfo says what this binary is: wirestream's module version
// and commit, and the versions of Go, nats-server and nats.go it was built
// with (`wirestream version`, and wirestream_build_info in /metrics).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Info describes the build.
type Info struct {
	Version    string // module version ("v1.2.0"), or "(devel)" for a build from a checkout
	Commit     string // VCS revision, "+dirty" when built with local changes; "" when unknown
	Go         string
	NATSServer string // the embedded nats-server
	NATSClient string // nats.go
}

// Read returns the running binary's build information.
func Read() Info {
	i := Info{Version: "(devel)", Go: runtime.Version(), NATSServer: server.VERSION, NATSClient: nats.Version}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if bi.Main.Version != "" {
		i.Version = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && i.Commit != "" {
		i.Commit += "+dirty"
	}
	return i
}

// String is the one-line form `wirestream version` prints.
func (i Info) String() string {
	commit := i.Commit
	if commit == "" {
		commit = "unknown commit"
	}
	return fmt.Sprintf("wirestream %s (%s), %s, nats-server %s, nats.go %s", i.Version, commit, i.Go, i.NATSServer, i.NATSClient)
}
