package httpserve_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/httpserve"
)

// closedWithin reports whether the server closes conn before d passes.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false // still open when our own deadline passed
	}
	return true
}

// A client that sends half a body and stops, or keeps an idle connection,
// is cut off by the server's timeouts; a normal request is served.
func TestServerTimeouts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	l := httpserve.Limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: time.Second, IdleTimeout: 300 * time.Millisecond}
	addr, err := httpserve.ServeWith(ctx, "127.0.0.1:0", h, l)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = slow.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nhalf a body"))
	if !closedWithin(t, slow, 10*time.Second) {
		t.Error("a half-sent body held the connection open")
	}

	idle, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_, _ = idle.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a normal request: %v %v", resp, err)
	}
	if !closedWithin(t, idle, 10*time.Second) {
		t.Error("an idle keep-alive connection was held open")
	}
}

// A port in use is said as such.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = httpserve.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err = %v", err)
	}
}

// MaxConns: with two connections open, a third is not served until one
// closes; MaxHeaderBytes: larger headers get 431.
func TestServerConnAndHeaderLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	l := httpserve.DefaultLimits
	l.MaxConns, l.MaxHeaderBytes = 2, 4096
	addr, err := httpserve.ServeWith(ctx, "127.0.0.1:0", h, l)
	if err != nil {
		t.Fatal(err)
	}
	get := func(conn net.Conn, hdr string) (*http.Response, error) {
		_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n" + hdr + "\r\n"))
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		return http.ReadResponse(bufio.NewReader(conn), nil)
	}
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for _, c := range conns[:2] {
		if resp, err := get(c, ""); err != nil || resp.StatusCode != 200 {
			t.Fatalf("first two connections: %v %v", resp, err)
		}
	}
	if _, err := get(conns[2], ""); err == nil {
		t.Fatal("a third connection was served while two were open (MaxConns 2)")
	}
	conns[0].Close()
	_ = conns[2].SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conns[2]), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("third connection once one closed: %v %v", resp, err)
	}
	resp, err = get(conns[1], "X-Big: "+strings.Repeat("a", 12<<10)+"\r\n") // net/http allows 4 KiB beyond the limit
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("12 KiB header with a 4 KiB limit: %v %v", resp, err)
	}
}
