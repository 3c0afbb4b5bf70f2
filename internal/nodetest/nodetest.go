// Package nodetest runs the official JavaScript peers (Node scripts under
// testdata/interop, with the npm packages pinned there) for the tests of
// every package.
package nodetest

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
)

// Dir returns the absolute path of testdata/interop, found from the working
// directory up to the module root.
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("testdata", "interop")
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "interop")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("testdata", "interop")
		}
		dir = parent
	}
}

// Require skips the test when the Node peers are not installed, except in
// CI (the CI variable set), where their absence is a failure.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node peers missing in %s: run `npm ci` there (make test does)", Dir())
		}
		t.Skip("node peers not installed; run `make test`")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not found on PATH")
	}
}

// Run runs a script of testdata/interop to its end and returns the JSON
// objects it printed, one per line. The script failing fails the test.
func Run(t testing.TB, script string, args ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = Dir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("node %s printed %q: %v", script, sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node %s: %v; stderr: %s; output: %v", script, err, stderr.String(), lines)
	}
	return lines
}

// Buffer collects a child process's output; it is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
