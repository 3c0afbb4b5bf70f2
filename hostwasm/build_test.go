package hostwasm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// The tests build the core module from source (bindings/wasm, with Build)
// once per run, so what they test is always the
// current source, and compile it once with wazero.

var built struct {
	once  sync.Once
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
	os.Exit(code)
}

// moduleWasm returns the module built from the current source.
func moduleWasm(tb testing.TB) []byte {
	tb.Helper()
	built.once.Do(func() {
		built.wasm, built.err = Build(context.Background())
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
