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

	"github.com/wirestream/wirestream/pipeline"
)

// Timeouts of every server: a client that sends its request slowly, or
// reads the answer slowly, or keeps an idle connection, is cut off.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 60 * time.Second // a whole request, body included (8 MiB of push at a slow link)
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
)

// Serve serves h on addr until ctx ends, then shuts down (in-flight requests
// get 5 s). It returns once listening; a port in use is reported as such.
func Serve(ctx context.Context, addr string, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if pipeline.IsAddrInUse(err) {
			return nil, fmt.Errorf("listen %s: address already in use (by another process?)", addr)
		}
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}
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
