package pipeline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// TestServerWebsocket: with Websocket set, a NATS client connects over
// ws:// (as browser clients do) with the server's user and password and
// receives what a TCP client publishes; without them it is refused.
func TestServerWebsocket(t *testing.T) {
	port := pipelinetest.FreePort(t)
	srv, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(),
		Websocket: fmt.Sprintf("127.0.0.1:%d", port), User: "u", Password: "p"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	ws := fmt.Sprintf("ws://127.0.0.1:%d", port)
	if _, err := nats.Connect(ws, nats.MaxReconnects(0)); err == nil {
		t.Fatal("websocket client without credentials was accepted")
	}
	wnc, err := nats.Connect(ws, nats.UserInfo("u", "p"))
	if err != nil {
		t.Fatalf("websocket connect: %v", err)
	}
	defer wnc.Close()
	sub, err := wnc.SubscribeSync("ws.out.all")
	if err != nil {
		t.Fatal(err)
	}
	_ = wnc.Flush()
	tnc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("u", "p"))
	if err != nil {
		t.Fatal(err)
	}
	defer tnc.Close()
	if err := tnc.Publish("ws.out.all", []byte(`{"uri":"urn:ws"}`)); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != `{"uri":"urn:ws"}` {
		t.Fatalf("websocket subscriber got %v %v", m, err)
	}
	if _, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Websocket: "nope"}, nil); err == nil {
		t.Fatal("a bad Websocket address was accepted")
	}
}
