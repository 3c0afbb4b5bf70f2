package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siohost/siohost/internal/nodetest"

	"github.com/stretchr/testify/require"
)

// nodeClient is a running bench_client.js whose JSON lines arrive on lines.
type nodeClient struct {
	cmd    *exec.Cmd
	lines  chan map[string]any
	stderr *lockedBuffer
}

func startNode(t *testing.T, ctx context.Context, args ...string) *nodeClient {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "bench_client.js"))
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = interopDir // where socket.io-client is installed
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	n := &nodeClient{cmd: cmd, lines: make(chan map[string]any, 100), stderr: &lockedBuffer{}}
	cmd.Stderr = n.stderr
	require.NoError(t, cmd.Start())
	go func() {
		defer close(n.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"error": "bad line: " + sc.Text()}
			}
			n.lines <- m
		}
	}()
	return n
}

// next returns the next line, failing on an error line or a timeout.
func (n *nodeClient) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-n.lines:
		require.True(t, ok, "node exited early; stderr: %s", n.stderr.String())
		require.NotContains(t, m, "error", "stderr: %s", n.stderr.String())
		return m
	case <-time.After(20 * time.Second):
		t.Fatalf("no line from node; stderr: %s", n.stderr.String())
		return nil
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestBench builds the bench server, drives echo, ack and broadcast with
// the official socket.io-client 4 over each transport, then stops it with
// SIGTERM while clients are connected: they are disconnected, and it exits 0.
func TestBench(t *testing.T) {
	requireNode(t)
	bin := filepath.Join(t.TempDir(), "bench")
	build := exec.Command("go", "build", "-o", bin, ".")
	outp, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", outp)

	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	server := exec.CommandContext(ctx, bin, "-addr", addr)
	stdout, err := server.StdoutPipe()
	require.NoError(t, err)
	var serverErr lockedBuffer
	server.Stderr = &serverErr
	require.NoError(t, server.Start())
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = server.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = server.Process.Kill()
			<-exited
		}
	})
	sc := bufio.NewScanner(stdout)
	require.True(t, sc.Scan(), "bench printed nothing; stderr: %s", serverErr.String())
	require.Equal(t, fmt.Sprintf("bench listening on %s (Socket.IO at /socket.io/)", addr), sc.Text())
	go func() {
		for sc.Scan() { // drain
		}
	}()

	url := "http://" + addr
	for i, transports := range []string{"polling", "websocket", "polling,websocket"} {
		last := i == 2
		mode := "close"
		if last {
			mode = "hold"
		}
		n := startNode(t, ctx, url, transports, mode)

		echo := n.next(t)["echo"]
		require.Equal(t, []any{"héllo", 42.0, map[string]any{"n": 1.0, "nested": []any{true, nil, "x"}}, map[string]any{"hex": "010203"}}, echo, transports)
		ack := n.next(t)["ack"]
		require.Equal(t, []any{"x", map[string]any{"hex": "0405"}, map[string]any{"k": "v"}}, ack, transports)
		bc := n.next(t)["broadcast"]
		require.Equal(t, []any{"to the room", map[string]any{"hex": "06"}}, bc, transports)
		m := n.next(t)
		require.Equal(t, 0.0, m["selfBroadcasts"], "the sender does not get its broadcast")
		if transports == "polling,websocket" {
			require.Equal(t, "websocket", m["transport"], "upgraded")
		} else {
			require.Equal(t, transports, m["transport"])
		}

		if last {
			require.Equal(t, true, n.next(t)["ready"])
			require.NoError(t, server.Process.Signal(syscall.SIGTERM))
			reasons := n.next(t)["disconnected"]
			t.Logf("clients disconnected by SIGTERM: %v", reasons)
			require.Len(t, reasons, 2)
			for _, r := range reasons.([]any) {
				require.Contains(t, []string{"transport close", "io server disconnect"}, r)
			}
		}
		_, ok := <-n.lines
		require.False(t, ok)
		require.NoError(t, n.cmd.Wait(), "node: %s", n.stderr.String())
	}

	select {
	case <-exited:
		require.NoError(t, waitErr, "bench exits 0 on SIGTERM; stderr: %s", serverErr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("bench did not exit after SIGTERM")
	}
	require.Equal(t, 0, server.ProcessState.ExitCode())
	require.False(t, strings.Contains(serverErr.String(), "panic"), serverErr.String())
}

// Node peers are run through internal/nodetest.
var interopDir = nodetest.Dir()

func requireNode(t *testing.T) { t.Helper(); nodetest.Require(t) }

type lockedBuffer = nodetest.Buffer
