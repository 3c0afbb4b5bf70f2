package main

// siohost connect: a command-line Socket.IO client that prints what
// happens as JSON lines, to try a server or find why a connection fails.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/siohost/siohost/hostnative"
)

const connectUsage = `usage: siohost connect URL [flags]

Connects to the Socket.IO server at URL, sends the --emit events in order,
and prints one JSON object per line:
  {"connect":{"sid":…,"transport":…}}     {"upgrade":"websocket"}
  {"event":NAME,"args":[…]}               {"ack":[…]}
  {"connect_error":{"message":…,"description":…}}
  {"disconnect":{"reason":…,"details":…}}
Binary arguments print as {"_binary":"<base64>"}. It exits 0 once every
emit is sent (and acknowledged, with --ack) and --count events have
arrived; otherwise 1, with the error on stderr.

flags:
`

// emitFlag is one --emit EVENT JSON-ARRAY.
type emitFlag struct {
	event string
	args  json.RawMessage
}

type connectConfig struct {
	url        string
	path       string
	namespace  string
	auth       string
	transports string
	protocol   int
	emits      []emitFlag
	ack        bool
	count      int
	timeout    time.Duration
	core       string // "native" or "wasm"
	coreWasm   string
}

// parseConnect reads the arguments. --emit takes two values, which the
// flag package cannot express: those pairs are taken out first.
func parseConnect(args []string, stderr io.Writer) (*connectConfig, error) {
	cfg := &connectConfig{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a != "--emit" && a != "-emit" {
			rest = append(rest, a)
			continue
		}
		if i+2 >= len(args) {
			return nil, errors.New("--emit needs an event name and a JSON array of arguments")
		}
		raw := json.RawMessage(args[i+2])
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, fmt.Errorf("--emit %s: the arguments must be a JSON array: %v", args[i+1], err)
		}
		cfg.emits = append(cfg.emits, emitFlag{args[i+1], raw})
		i += 2
	}
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, connectUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "  -emit EVENT JSON-ARRAY\n    \tan event to send, with its arguments (repeatable)")
	}
	fs.StringVar(&cfg.path, "path", "/socket.io", "the server's Socket.IO path")
	fs.StringVar(&cfg.namespace, "namespace", "/", "the namespace to connect")
	fs.StringVar(&cfg.auth, "auth", "", "the CONNECT payload, a JSON object")
	fs.StringVar(&cfg.transports, "transports", "polling,websocket", "the transports, in order")
	fs.IntVar(&cfg.protocol, "eio", 4, "the Engine.IO protocol: 4, or 3 for socket.io 2.x servers")
	fs.BoolVar(&cfg.ack, "ack", false, "ask for an acknowledgement of each emit, and wait for it")
	fs.IntVar(&cfg.count, "count", 0, "events to wait for before exiting (-1: until disconnected or timed out)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "the time allowed for everything (0: no limit)")
	fs.StringVar(&cfg.core, "core", "native", `where the client's protocol core runs: "native" or "wasm" (the WebAssembly module, in wazero)`)
	fs.StringVar(&cfg.coreWasm, "core-wasm", "", "with --core=wasm: path of the module (default: build it from source)")
	// Flags may come before and after the URL.
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		if cfg.url != "" {
			return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		cfg.url, rest = fs.Arg(0), fs.Args()[1:]
	}
	if cfg.url == "" {
		fs.Usage()
		return nil, errors.New("no URL")
	}
	return cfg, nil
}

// runConnect runs siohost connect and returns the exit code.
func runConnect(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConnect(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "siohost connect:", err)
		}
		return 2
	}
	out := &lineWriter{w: stdout}
	err = connect(cfg, out)
	out.close()
	if err != nil {
		fmt.Fprintln(stderr, "siohost connect:", err)
		return 1
	}
	return 0
}

// lineWriter prints JSON lines from several goroutines, until closed.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

// close stops the printing: the handlers still queued print nothing.
func (l *lineWriter) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

func (l *lineWriter) print(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		_, _ = l.w.Write(append(b, '\n'))
	}
}

func connect(cfg *connectConfig, out *lineWriter) error {
	opts := hostnative.ManagerOptions{
		Path:           cfg.path,
		Protocol:       cfg.protocol,
		NoReconnection: true,
	}
	for t := range strings.SplitSeq(cfg.transports, ",") {
		if t = strings.TrimSpace(t); t != "" {
			opts.Transports = append(opts.Transports, t)
		}
	}
	if cfg.auth != "" {
		opts.Auth = json.RawMessage(cfg.auth)
	}
	mod, err := openCore(cfg.core, cfg.coreWasm)
	if err != nil {
		return err
	}
	if mod != nil {
		defer mod.Close(context.Background())
		opts.Core = mod.NewClientCore
	}
	ctx := context.Background()
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	m, err := hostnative.NewManager(cfg.url, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	s := m.Socket(cfg.namespace)

	// The counts the exit waits for, and the disconnect that ends it.
	var mu sync.Mutex
	events := 0
	enough := make(chan struct{})
	ended := make(chan string, 1)
	check := func() {
		if cfg.count >= 0 && events >= cfg.count {
			select {
			case <-enough:
			default:
				close(enough)
			}
		}
	}
	m.OnUpgrade(func(tr string) { out.print(map[string]any{"upgrade": tr}) })
	// Printed by a handler, so that it comes before the events that follow
	// it on the wire.
	s.OnConnect(func() {
		out.print(map[string]any{"connect": map[string]any{"sid": s.ID(), "transport": s.Transport()}})
	})
	s.OnAny(func(ev *hostnative.ClientEvent) {
		out.print(map[string]any{"event": ev.Name, "args": printableArgs(ev.RawArgs(), ev.Attachments())})
		mu.Lock()
		events++
		check()
		mu.Unlock()
	})
	s.OnDisconnect(func(reason string, d *hostnative.DisconnectDetails) {
		line := map[string]any{"reason": reason}
		if d != nil {
			line["details"] = detailsJSON(d)
		}
		out.print(map[string]any{"disconnect": line})
		select {
		case ended <- reason:
		default:
		}
	})

	if err := s.Connect(ctx); err != nil {
		var ce *hostnative.ClientConnectError
		if errors.As(err, &ce) {
			line := map[string]any{"message": ce.Message, "description": ce.Description}
			if ce.Data != nil {
				line["data"] = ce.Data
			}
			if ce.Context != nil && ce.Context.Hint != "" {
				line["hint"] = ce.Context.Hint
			}
			out.print(map[string]any{"connect_error": line})
		}
		return err
	}

	for _, e := range cfg.emits {
		if !cfg.ack {
			if err := s.EmitRaw(e.event, e.args, nil); err != nil {
				return fmt.Errorf("emit %s: %w", e.event, err)
			}
			continue
		}
		resp, err := s.EmitWithAckRaw(ctx, e.event, e.args, nil)
		if err != nil {
			return fmt.Errorf("emit %s: waiting for the ack: %w", e.event, err)
		}
		raw, atts := resp.Raw()
		var args []json.RawMessage
		_ = json.Unmarshal(raw, &args)
		out.print(map[string]any{"ack": printableArgs(args, atts)})
	}
	mu.Lock()
	check()
	mu.Unlock()
	select {
	case <-enough:
	case reason := <-ended:
		return fmt.Errorf("disconnected (%s) after %d of %d events", reason, events, cfg.count)
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("%w after %d of %d events", ctx.Err(), events, cfg.count)
	}
	out.close() // "io client disconnect" is no news
	s.Disconnect()
	return nil
}

// printableArgs replaces the binary placeholders by {"_binary":base64}.
func printableArgs(args []json.RawMessage, atts [][]byte) []any {
	out := make([]any, len(args))
	for i, a := range args {
		var v any
		if json.Unmarshal(a, &v) != nil {
			v = string(a)
		}
		out[i] = withBinary(v, atts)
	}
	return out
}

func withBinary(v any, atts [][]byte) any {
	switch x := v.(type) {
	case map[string]any:
		if p, ok := x["_placeholder"].(bool); ok && p {
			if n, ok := x["num"].(float64); ok && int(n) >= 0 && int(n) < len(atts) {
				return map[string]any{"_binary": base64.StdEncoding.EncodeToString(atts[int(n)])}
			}
		}
		for k, e := range x {
			x[k] = withBinary(e, atts)
		}
	case []any:
		for i, e := range x {
			x[i] = withBinary(e, atts)
		}
	}
	return v
}

func detailsJSON(d *hostnative.DisconnectDetails) map[string]any {
	m := map[string]any{}
	if d.Message != "" {
		m["message"] = d.Message
	}
	if d.Description != "" {
		m["description"] = d.Description
	}
	if d.Context != nil && d.Context.Hint != "" {
		m["hint"] = d.Context.Hint
	}
	return m
}
