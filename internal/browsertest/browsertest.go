// Package browsertest runs pages in headless Chromium for the tests of
// every package: the page drives a client by itself and POSTs what it sees
// to the test's /report handler as JSON Reports. No WebDriver.
package browsertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Chromium finds the browser; the test skips without one unless CI is set,
// where its absence is a failure.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found, and CI is set: install it (Debian: apt-get install chromium)")
	}
	t.Skip("chromium not found (Debian: apt-get install chromium); the browser test needs it")
	return ""
}

// Browser is a headless Chromium showing one page.
type Browser struct {
	cmd  *exec.Cmd
	out  syncBuffer
	once sync.Once
}

// Launch starts chromium (from Chromium) on url with a fresh profile. Stop
// ends it; a test cleanup does too, in case the test did not.
func Launch(t testing.TB, chromium, url string) *Browser {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "profile")
	b := &Browser{}
	b.cmd = exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
		"--user-data-dir="+profile, url)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	// Its own process group: chromium's helpers go with it at the end.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

// Stop kills the browser and its helper processes and waits for it.
func (b *Browser) Stop() {
	b.once.Do(func() {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		_ = b.cmd.Wait()
	})
}

// Output returns the end of what the browser printed, for failure messages.
func (b *Browser) Output() string { return Tail(b.out.String()) }

// Report is what a page POSTs to /report: a step and its outcome, a log
// line, a request to restart the server, or the end of the run.
type Report struct {
	Step    string          `json:"step"`
	OK      bool            `json:"ok"`
	Detail  json.RawMessage `json:"detail"`
	Restart bool            `json:"restart"`
	Log     string          `json:"log"`
	Done    bool            `json:"done"`
}

// ReportHandler decodes the Reports a page POSTs and sends them on ch.
func ReportHandler(ch chan<- Report) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var rep Report
		if err := json.NewDecoder(r.Body).Decode(&rep); err == nil {
			ch <- rep
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// Collect gathers the page's step reports until it says it is done, within
// wait: log lines go to the test's log, a restart request to onRestart
// (nil: none expected). With stopOnFailure, the first failed step ends the
// wait. It returns the reports by step.
func (b *Browser) Collect(t testing.TB, reports <-chan Report, wait time.Duration, onRestart func(), stopOnFailure bool) map[string]Report {
	t.Helper()
	seen := map[string]Report{}
	deadline := time.After(wait)
	for {
		select {
		case rep := <-reports:
			switch {
			case rep.Restart && onRestart != nil:
				onRestart()
			case rep.Log != "":
				t.Log("page:", rep.Log)
			case rep.Done:
				return seen
			default:
				seen[rep.Step] = rep
				t.Logf("%s %v %s", rep.Step, rep.OK, rep.Detail)
				if !rep.OK && stopOnFailure {
					return seen
				}
			}
		case <-deadline:
			t.Fatalf("the page did not finish within %s; steps: %v\nchromium: %s", wait, Keys(seen), b.Output())
		}
	}
}

// RequireSteps fails the test for each of steps that was not reported, or
// failed.
func RequireSteps(t testing.TB, seen map[string]Report, steps ...string) {
	t.Helper()
	for _, name := range steps {
		rep, ok := seen[name]
		switch {
		case !ok:
			t.Errorf("step %q never reported", name)
		case !rep.OK:
			t.Errorf("step %q failed: %s", name, rep.Detail)
		}
	}
}

// Keys returns the steps reported so far, for failure messages.
func Keys(m map[string]Report) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Tail returns the last 4000 bytes of s, trimmed.
func Tail(s string) string {
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}

// WaitGoroutines fails the test if goroutines started by it are still
// running once things had time to stop.
func WaitGoroutines(t testing.TB, base int) {
	t.Helper()
	var n int
	for range 300 {
		http.DefaultClient.CloseIdleConnections()
		if n = runtime.NumGoroutine(); n <= base+2 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Errorf("goroutines: %d before, %d after:\n%s", base, n, buf)
}

// syncBuffer is a bytes.Buffer that the browser's output goroutines and the
// test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
