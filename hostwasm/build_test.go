package hostwasm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// The tests build the core module from source (bindings/wasm) into a
// temporary directory once per run, so what they test is always the
// current source, and compile it once with wazero.

var built struct {
	once  sync.Once
	dir   string
	wasm  []byte
	cache wazero.CompilationCache // shared by every Module of the tests
	mod   *Module
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.mod != nil {
		_ = built.mod.Close(context.Background())
	}
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildArgs are the flags of the module's build: those of the go:generate
// line in bindings/wasm, so that both produce the same bytes.
func buildArgs(out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out,
		"github.com/siohost/siohost/bindings/wasm"}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// moduleWasm returns the module built from the current source.
func moduleWasm(tb testing.TB) []byte {
	tb.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "siohost-wasm-")
		if built.err != nil {
			return
		}
		out := filepath.Join(built.dir, "siohost-core.wasm")
		cmd := exec.Command(goTool(), buildArgs(out)...)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			built.err = errors.New("building the core module: " + err.Error() + "\n" + stderr.String())
			return
		}
		built.wasm, built.err = os.ReadFile(out)
		if built.err != nil {
			return
		}
		built.cache = wazero.NewCompilationCache()
		built.mod, built.err = Compile(context.Background(), built.wasm, Options{Cache: built.cache})
	})
	require.NoError(tb, built.err)
	return built.wasm
}

// module returns the module compiled once for the whole test run.
func module(tb testing.TB) *Module {
	tb.Helper()
	moduleWasm(tb)
	return built.mod
}

// TestArtifactMatchesSource: the module is not committed; go generate
// writes it next to its source (ignored by git). When that file is there,
// it must be what the source builds today, so a host embedding it cannot
// ship a stale core.
func TestArtifactMatchesSource(t *testing.T) {
	fresh := moduleWasm(t)
	require.NotEmpty(t, fresh)
	generated, err := os.ReadFile(filepath.Join("..", "bindings", "wasm", "siohost-core.wasm"))
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("no generated bindings/wasm/siohost-core.wasm; the tests use a fresh build (%d bytes)", len(fresh))
		return
	}
	require.NoError(t, err)
	require.True(t, bytes.Equal(fresh, generated),
		"bindings/wasm/siohost-core.wasm is stale: run go generate ./bindings/wasm")
}
