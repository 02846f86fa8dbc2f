package pipelinetest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FreePort returns a TCP port free on loopback at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Cluster is n real nats-servers on loopback, routed into one JetStream
// cluster, each with its own store directory.
type Cluster struct {
	Servers []*server.Server
}

// URLs is the comma-separated client URL list of the live servers.
func (c *Cluster) URLs() string {
	var u []string
	for _, s := range c.Servers {
		if s != nil {
			u = append(u, s.ClientURL())
		}
	}
	return strings.Join(u, ",")
}

// Kill stops server i at once (its clients see the connection drop).
func (c *Cluster) Kill(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
	c.Servers[i] = nil
}

// StartCluster starts an n-node JetStream cluster and waits until it has a
// meta leader and accepts JetStream requests.
//
// The route ports are picked before any server starts (each server's routes
// name all of them), so one can be taken in between, for instance as the
// local port of another node's outgoing route connection. A node that does
// not come up is therefore not fatal at once: the whole cluster is started
// again on fresh ports, up to three times.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	var c *Cluster
	var err error
	for attempt := 1; ; attempt++ {
		c, err = startCluster(t, n)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("%v; starting the cluster again on other ports", err)
	}
	t.Cleanup(func() {
		for _, s := range c.Servers {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
	})
	// Wait for a meta leader: JetStream account info answers.
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	}, "JetStream cluster has no meta leader")
	return c
}

func startCluster(t testing.TB, n int) (*Cluster, error) {
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range ports {
		ports[i] = FreePort(t)
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[i])
	}
	c := &Cluster{}
	for i := 0; i < n; i++ {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "wirestream-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err == nil {
			s.Start()
			if !s.ReadyForConnections(10 * time.Second) {
				s.Shutdown()
				s.WaitForShutdown()
				err = fmt.Errorf("cluster node %d not ready (route port %d)", i+1, ports[i])
			}
		}
		if err != nil {
			for _, s := range c.Servers {
				s.Shutdown()
				s.WaitForShutdown()
			}
			return nil, err
		}
		c.Servers = append(c.Servers, s)
	}
	return c, nil
}
