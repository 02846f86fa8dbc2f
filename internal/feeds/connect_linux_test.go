package feeds_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// blackHole is a loopback address whose connections never complete: a
// listening socket that never accepts, with its queue filled, so the
// kernel drops further SYNs and a dial waits (as for a host that is down
// behind a firewall that drops packets).
func blackHole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr // the queue is full: this dial timed out
		}
		t.Cleanup(func() { c.Close() })
		if i > 64 {
			t.Skip("the kernel accepts every connection on a listener that never accepts: no black hole here")
		}
	}
}

// TestConnectTimeout: a feed whose host never answers the connection fails
// after the connect timeout (counted as a timeout), not after the whole
// request's timeout.
func TestConnectTimeout(t *testing.T) {
	js := startJS(t)
	f := feed("unreachable", "http://"+blackHole(t)+"/rss")
	f.Timeout, f.Connect = 60*time.Second, 300*time.Millisecond
	r := runEngine(t, js, "p1", f)
	// Well under the 60 s request timeout: only the connect timeout can
	// end the first poll in time.
	pipelinetest.Eventually(t, 15*time.Second, func() bool {
		return r.counter(t, "wirestream_feed_errors_total", "feed", "unreachable", "kind", feeds.KindTimeout) >= 1
	}, "no timeout counted: the connect timeout did not end the poll")
}
