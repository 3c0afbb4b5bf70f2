package hostnative

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
)

// TestCoreFactoryFails: a shard whose core cannot be made answers 500 and
// says why in the log; it tries the factory again on the next request.
func TestCoreFactoryFails(t *testing.T) {
	var calls atomic.Int32
	var logs lockedBuffer
	e := NewEngine(EngineOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Core: func(c abi.Config) (abi.Backend, error) {
			if calls.Add(1) == 1 {
				return nil, errors.New("no core today")
			}
			return nativeCore(c)
		},
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(e.Close)
	get := func() (int, string) {
		// Always the same shard: an unknown sid starting with "A".
		resp, err := http.Get(srv.URL + "/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA")
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	status, _ := get()
	require.Equal(t, http.StatusInternalServerError, status)
	require.Contains(t, logs.String(), "no core today")
	status, body := get()
	require.Equal(t, http.StatusBadRequest, status)
	require.True(t, strings.Contains(body, "Session ID unknown"), body)
	require.Equal(t, int32(2), calls.Load())
}
