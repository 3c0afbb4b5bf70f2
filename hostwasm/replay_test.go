package hostwasm

// The golden session transcripts of core/testdata replayed through the
// native core and through the WebAssembly module (hostwasm's Core, the
// records the module reads and the effect list it writes) side by side:
// after every step the effects (every field, bytes compared exactly), the
// result, the next deadline, the open count and each session's id,
// protocol and transport must be identical. The transcripts' own
// expectations are checked by internal/transcript's test on the native
// core.

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/internal/transcript"
)

func TestReplayTranscripts(t *testing.T) {
	mod := module(t)
	for _, f := range transcript.Load(t, "../core/testdata") {
		name := "sessions/" + f.Name
		if f.SocketIO {
			name = "sio_sessions/" + f.Name
		}
		t.Run(name, func(t *testing.T) {
			cfg := f.CoreConfig(t)
			native, err := abi.NewNative(cfg, nil)
			require.NoError(t, err)
			wasm, err := mod.NewCore(cfg)
			require.NoError(t, err)
			if c, ok := wasm.(io.Closer); ok {
				t.Cleanup(func() { _ = c.Close() })
			}
			want := transcript.Replay(t, f, native, false)
			got := transcript.Replay(t, f, wasm, false)
			n := 0
			for i := range want {
				require.Equal(t, want[i], got[i], "step %d", i)
				n += len(want[i].Effects)
			}
			require.Positive(t, n, "the transcript produced no effect")
		})
	}
}
