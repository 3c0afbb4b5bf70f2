package hostwasm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildArgs are the go build arguments of the core module: those of the
// go:generate line in bindings/wasm, so that both give the same bytes
// (-trimpath and -buildvcs=false make the build reproducible).
func BuildArgs(out string, tags ...string) []string {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out}
	if len(tags) > 0 {
		t := tags[0]
		for _, s := range tags[1:] {
			t += "," + s
		}
		args = append(args, "-tags", t)
	}
	return append(args, "github.com/siohost/siohost/bindings/wasm")
}

// Build compiles the core module from source with the go tool and returns
// it. The working directory must lie inside the siohost module (or a
// module that requires it). tags are extra build tags: the tests build a
// module with fault injection (siohost_fault) this way. The artifact is
// written to a temporary directory and removed.
func Build(ctx context.Context, tags ...string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "siohost-wasm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "siohost-core.wasm")
	cmd := exec.CommandContext(ctx, goTool(), BuildArgs(out, tags...)...)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New("hostwasm: building the core module: " + err.Error() + "\n" + stderr.String())
	}
	return os.ReadFile(out)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Open compiles the core module at path or, when path is "", the module
// that Build makes from source: what a program's -core=wasm flag needs.
func Open(ctx context.Context, path string, opts Options) (*Module, error) {
	var wasm []byte
	var err error
	if path == "" {
		wasm, err = Build(ctx)
	} else {
		wasm, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	return Compile(ctx, wasm, opts)
}
