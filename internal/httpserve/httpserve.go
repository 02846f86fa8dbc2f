// Package httpserve runs wirestream's HTTP servers (metrics and probes, HTTP
// push) with the same limits: every server the process opens is made here.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/wirestream/wirestream/pipeline"
)

// Limits are the timeouts of a server: a client that sends its request
// slowly, or reads the answer slowly, or keeps an idle connection, is cut
// off.
type Limits struct {
	ReadHeaderTimeout time.Duration // default 5 s
	ReadTimeout       time.Duration // a whole request, body included (default 60 s: 8 MiB of push on a slow link)
	WriteTimeout      time.Duration // default 60 s
	IdleTimeout       time.Duration // an idle keep-alive connection (default 120 s)
	// MaxHeaderBytes bounds the request line and headers (default 16 KiB;
	// net/http allows 4 KiB more before answering 431).
	MaxHeaderBytes int
	// MaxConns bounds the connections open at once (default 1024); more
	// wait in the listen queue until one closes.
	MaxConns int
}

// DefaultLimits are the limits of every server wirestream opens.
var DefaultLimits = Limits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 60 * time.Second,
	WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10, MaxConns: 1024}

// Serve serves h on addr with DefaultLimits until ctx ends, then shuts down
// (in-flight requests get 5 s). It returns once listening; a port in use is
// reported as such.
func Serve(ctx context.Context, addr string, h http.Handler) (net.Addr, error) {
	return ServeWith(ctx, addr, h, DefaultLimits)
}

// ServeWith is Serve with other limits.
func ServeWith(ctx context.Context, addr string, h http.Handler, l Limits) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if pipeline.IsAddrInUse(err) {
			return nil, fmt.Errorf("listen %s: address already in use (by another process?)", addr)
		}
		return nil, err
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if l.MaxConns == 0 {
		l.MaxConns = DefaultLimits.MaxConns
	}
	ln = netutil.LimitListener(ln, l.MaxConns)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed after start; /healthz probes will notice
		}
	}()
	return ln.Addr(), nil
}
