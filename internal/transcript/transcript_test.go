package transcript

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
)

// TestTranscripts replays every golden transcript through the native core
// and checks all it expects: the effects of each step, results, deadlines,
// open sessions and namespaces joined.
func TestTranscripts(t *testing.T) {
	files := Load(t, "../../core/testdata")
	for _, f := range files {
		name := "eio/" + f.Name
		if f.SocketIO {
			name = "sio/" + f.Name
		}
		t.Run(name, func(t *testing.T) {
			b, err := abi.NewNative(f.CoreConfig(t), nil)
			require.NoError(t, err)
			records := Replay(t, f, b, true)
			n := 0
			for _, r := range records {
				n += len(r.Effects)
			}
			require.Positive(t, n, "the transcript produced no effect")
		})
	}
}
