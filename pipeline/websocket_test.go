package pipeline_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
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

// TestReadOnlyWebsocketUser: the permissions README gives a read-only
// browser user are enough for pipeline.Subscribe's ordered consumer and
// direct gets over WebSocket, and refuse publishing into the pipeline.
func TestReadOnlyWebsocketUser(t *testing.T) {
	wport := pipelinetest.FreePort(t)
	ro := &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{"$JS.API.INFO", "$JS.API.STREAM.INFO.WS_OUT",
			"$JS.API.CONSUMER.CREATE.WS_OUT.>", "$JS.API.CONSUMER.INFO.WS_OUT.>",
			"$JS.API.CONSUMER.MSG.NEXT.WS_OUT.>", "$JS.API.DIRECT.GET.WS_OUT.>", "$JS.API.DIRECT.GET.WS_OUT"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"ws.out.>", "_INBOX.>"}},
	}
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
		Users:     []*server.User{{Username: "admin", Password: "a"}, {Username: "browser", Password: "b", Permissions: ro}},
		Websocket: server.WebsocketOpts{Host: "127.0.0.1", Port: wport, NoTLS: true}}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	anc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("admin", "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer anc.Close()
	ajs, _ := jetstream.New(anc)
	ctx := pipelinetest.Context(t, 20*time.Second)
	n := proto.Live()
	if err := pipeline.EnsureStreams(ctx, ajs, n, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	b, _ := proto.MarshalJSON(&proto.Story{URI: "urn:ro", Version: "1"})
	full, err := ajs.PublishMsg(ctx, &nats.Msg{Subject: n.OutAll(), Data: b, Header: nats.Header{proto.HeaderEncoding: {"json"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ajs.PublishMsg(ctx, &nats.Msg{Subject: n.Region("UZ"), Header: nats.Header{proto.HeaderStorySeq: {fmt.Sprint(full.Sequence)}}}); err != nil {
		t.Fatal(err)
	}
	perm := make(chan error, 4)
	bnc, err := nats.Connect(fmt.Sprintf("ws://127.0.0.1:%d", wport), nats.UserInfo("browser", "b"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { perm <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer bnc.Close()
	bjs, _ := jetstream.New(bnc)
	var got []string
	err = pipeline.Subscribe(ctx, bjs, pipeline.SubscribeConfig{Names: n, Subject: n.Region("UZ"), FromStart: true}, func(d pipeline.Delivery) error {
		got = append(got, d.Story.URI)
		return pipeline.ErrStop
	})
	if err != nil || len(got) != 1 || got[0] != "urn:ro" {
		t.Fatalf("read-only subscriber: %v %v", got, err)
	}
	if err := bnc.Publish(n.Raw("x"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = bnc.Flush()
	select {
	case err := <-perm:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("publish to raw: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read-only user published to the raw subject unrefused")
	}
}
