package pipeline

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// ServerConfig configures the embedded nats-server.
type ServerConfig struct {
	// Listen is the client address, HOST:PORT. Default "127.0.0.1:4222";
	// port -1 picks a free port (tests).
	Listen string
	// StoreDir is where JetStream keeps its files. Required.
	StoreDir string
	// MaxPayload is the largest message the server accepts. Default 8 MiB,
	// so that oversize stories reach the ingest stage and are dead-lettered
	// with a reason instead of being refused at publish.
	MaxPayload int32
	// Name of the server. Default "wirestream".
	Name string
	// ReadyTimeout bounds the wait for the server to accept clients. Default 10 s.
	ReadyTimeout time.Duration
	// User and Password, when set, are required of every client. Without
	// them the server accepts anyone who can reach Listen: StartServer logs a
	// warning when Listen is not a loopback address.
	User, Password string
	// Websocket, when set (HOST:PORT), opens the server's WebSocket
	// listener for browser NATS clients (nats.ws). It is plain ws:// (no
	// TLS: put a TLS-terminating proxy in front beyond this machine) and
	// takes the same User and Password.
	Websocket string
}

func (c *ServerConfig) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:4222"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 8 << 20
	}
	if c.Name == "" {
		c.Name = "wirestream"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 10 * time.Second
	}
}

// StartServer runs an in-process nats-server with JetStream on file storage
// and waits until it accepts clients. Stop it with Shutdown and
// WaitForShutdown.
//
// It holds a lock on StoreDir while the server runs: a second process on
// the same directory gets ErrDirInUse naming the holder's pid, at once (two
// servers on one store corrupt it). A port already in use is reported as
// such, at once.
func StartServer(cfg ServerConfig, log *zap.Logger) (*server.Server, error) {
	cfg.setDefaults()
	if cfg.StoreDir == "" {
		return nil, fmt.Errorf("%w: ServerConfig.StoreDir is empty", ErrConfig)
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: ServerConfig.Listen %q: %v", ErrConfig, cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("%w: ServerConfig.Listen port %q: %v", ErrConfig, portStr, err)
	}
	if port > 0 {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			if IsAddrInUse(err) {
				return nil, fmt.Errorf("listen %s: address already in use (another wirestream run or nats-server?)", cfg.Listen)
			}
			return nil, fmt.Errorf("listen %s: %w", cfg.Listen, err)
		}
		ln.Close()
	}
	var running atomic.Pointer[server.Server]
	unlock, err := lockDir(cfg.StoreDir, func() bool { s := running.Load(); return s != nil && s.Running() })
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		MaxPayload: cfg.MaxPayload,
		NoSigs:     true,
		Username:   cfg.User,
		Password:   cfg.Password,
	}
	if cfg.Websocket != "" {
		wh, wp, err := net.SplitHostPort(cfg.Websocket)
		port, perr := strconv.Atoi(wp)
		if err != nil || perr != nil {
			unlock()
			return nil, fmt.Errorf("%w: ServerConfig.Websocket %q: want HOST:PORT", ErrConfig, cfg.Websocket)
		}
		if port > 0 {
			ln, err := net.Listen("tcp", cfg.Websocket)
			if err != nil {
				unlock()
				if IsAddrInUse(err) {
					return nil, fmt.Errorf("websocket listen %s: address already in use", cfg.Websocket)
				}
				return nil, fmt.Errorf("websocket listen %s: %w", cfg.Websocket, err)
			}
			ln.Close()
		}
		opts.Websocket = server.WebsocketOpts{Host: wh, Port: port, NoTLS: true, Compression: true,
			HandshakeTimeout: 5 * time.Second}
		if cfg.User == "" && !loopback(wh) && log != nil {
			log.Warn("the WebSocket listener is open beyond this machine without authentication", zap.String("websocket", cfg.Websocket))
		}
	}
	if (cfg.User == "") != (cfg.Password == "") {
		unlock()
		return nil, fmt.Errorf("%w: ServerConfig.User and Password go together", ErrConfig)
	}
	if cfg.User == "" && !loopback(host) && log != nil {
		log.Warn("the embedded NATS server listens beyond this machine without authentication: anyone who reaches it can read and write every stream (give --user and --password, or listen on 127.0.0.1)",
			zap.String("listen", cfg.Listen))
	}
	s, err := server.NewServer(opts)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	if log != nil {
		s.SetLoggerV2(&serverLogger{log.Named("nats-server").Sugar()}, false, false, false)
	}
	running.Store(s)
	s.Start()
	go func() { s.WaitForShutdown(); unlock() }()
	if !s.ReadyForConnections(cfg.ReadyTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("nats-server on %s not ready after %s", cfg.Listen, cfg.ReadyTimeout)
	}
	return s, nil
}

// loopback reports whether host only reaches this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsAddrInUse reports whether a listen failed because another process has
// the address.
func IsAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") ||
		strings.Contains(err.Error(), "Only one usage of each socket address") // Windows
}

// serverLogger forwards nats-server logs to zap.
type serverLogger struct{ l *zap.SugaredLogger }

func (s *serverLogger) Noticef(format string, v ...any) { s.l.Infof(format, v...) }
func (s *serverLogger) Warnf(format string, v ...any)   { s.l.Warnf(format, v...) }
func (s *serverLogger) Fatalf(format string, v ...any)  { s.l.Errorf(format, v...) }
func (s *serverLogger) Errorf(format string, v ...any)  { s.l.Errorf(format, v...) }
func (s *serverLogger) Debugf(format string, v ...any)  { s.l.Debugf(format, v...) }
func (s *serverLogger) Tracef(format string, v ...any)  {}
