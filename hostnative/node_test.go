package hostnative

import (
	"testing"

	"github.com/siohost/siohost/internal/nodetest"
)

// Node peers are run through internal/nodetest.
var interopDir = nodetest.Dir()

func requireNode(t *testing.T) { t.Helper(); nodetest.Require(t) }

func runNode(t *testing.T, script string, args ...string) []map[string]any {
	t.Helper()
	return nodetest.Run(t, script, args...)
}

type lockedBuffer = nodetest.Buffer
