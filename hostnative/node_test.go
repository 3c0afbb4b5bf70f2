package hostnative

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// interopDir holds the official JavaScript peers, installed from the
// committed package-lock.json by the README's test command.
var interopDir = filepath.Join("..", "testdata", "interop")

// requireNode skips when the Node peers are not installed, except in CI
// where their absence is a failure.
func requireNode(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node peers missing in %s: run `npm ci` there (make test does)", interopDir)
		}
		t.Skip("node peers not installed; run `make test`")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not found on PATH")
	}
}

// runNode runs a script of testdata/interop and returns the JSON objects it
// printed, one per line.
func runNode(t *testing.T, script string, args ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = interopDir
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var lines []map[string]any
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		lines = append(lines, m)
	}
	err = cmd.Wait()
	require.NoError(t, err, "node %s: stderr: %s; output: %v", script, stderr.String(), lines)
	return lines
}

// lockedBuffer collects a child process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
