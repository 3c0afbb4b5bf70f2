package hostnative

import (
	"context"
	"net/url"
	"strings"
	"sync"
)

// managerHandlers are the Manager's own events (socket.io-client's
// Manager events), guarded by Manager.mu.
type managerHandlers struct {
	open             func()
	close            func(reason string, details *DisconnectDetails)
	err              func(error)
	reconnectAttempt func(attempt int)
	reconnect        func(attempt int)
	reconnectErr     func(error)
	reconnectFailed  func()
	upgrade          func(transport string)
}

func (m *Manager) setHandler(set func(h *managerHandlers)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set(&m.h)
}

// OnOpen sets the handler called each time an Engine.IO session opens.
func (m *Manager) OnOpen(fn func()) { m.setHandler(func(h *managerHandlers) { h.open = fn }) }

// OnClose sets the handler called each time an open session ends, with the
// Engine.IO reason ("transport close", "transport error", "ping timeout",
// "parse error", or "forced close" when the client closed it: its last
// namespace left, or Close) and its details (nil for "forced close").
func (m *Manager) OnClose(fn func(reason string, details *DisconnectDetails)) {
	m.setHandler(func(h *managerHandlers) { h.close = fn })
}

// OnError sets the handler called each time a session fails to open (an
// *EngineError whose Diagnostic says why).
func (m *Manager) OnError(fn func(error)) { m.setHandler(func(h *managerHandlers) { h.err = fn }) }

// OnReconnectAttempt sets the handler called when a reconnection attempt
// starts, with its number (from 1).
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) {
	m.setHandler(func(h *managerHandlers) { h.reconnectAttempt = fn })
}

// OnReconnect sets the handler called when a reconnection attempt opened a
// session, with the number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) {
	m.setHandler(func(h *managerHandlers) { h.reconnect = fn })
}

// OnReconnectError sets the handler called when a reconnection attempt
// failed.
func (m *Manager) OnReconnectError(fn func(error)) {
	m.setHandler(func(h *managerHandlers) { h.reconnectErr = fn })
}

// OnReconnectFailed sets the handler called when ReconnectionAttempts
// attempts in a row have failed and the Manager gives up.
func (m *Manager) OnReconnectFailed(fn func()) {
	m.setHandler(func(h *managerHandlers) { h.reconnectFailed = fn })
}

// OnUpgrade sets the handler called when the session moves to another
// transport ("websocket").
func (m *Manager) OnUpgrade(fn func(transport string)) {
	m.setHandler(func(h *managerHandlers) { h.upgrade = fn })
}

// The Managers that Dial shares, by server and path (socket.io-client's
// cache of io()).
var (
	managersMu sync.Mutex
	managers   = map[string]*Manager{}
)

// Dial connects to the namespace named by rawURL's path ("/" when none),
// as socket.io-client's io(url) does: "http://example.com/admin" is the
// namespace "/admin" of the server at example.com. Sockets dialed to the
// same server and Path share one Manager, hence one Engine.IO session,
// unless opts.ForceNew is set; the options of the first Dial are the
// shared Manager's. It returns the connected socket, or Connect's error.
func Dial(ctx context.Context, rawURL string, opts ManagerOptions) (*ClientSocket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	nsp := u.Path
	if nsp == "" {
		nsp = "/"
	}
	u.Path, u.RawPath = "", ""
	base := u.String()
	path := opts.Path
	if path == "" {
		path = "/socket.io"
	}
	key := strings.ToLower(u.Scheme) + "://" + u.Host + path
	var m *Manager
	fresh := false
	if !opts.ForceNew {
		managersMu.Lock()
		m = managers[key]
		if m == nil {
			if m, err = NewManager(base, opts); err == nil {
				managers[key], fresh = m, true
			}
		}
		managersMu.Unlock()
	} else {
		m, err = NewManager(base, opts)
		fresh = true
	}
	if err != nil {
		return nil, err
	}
	s := m.Socket(nsp)
	if err := s.Connect(ctx); err != nil {
		if fresh {
			_ = m.Close()
		}
		return nil, err
	}
	return s, nil
}

// forgetManager drops a closed Manager from Dial's cache.
func forgetManager(m *Manager) {
	managersMu.Lock()
	defer managersMu.Unlock()
	for k, v := range managers {
		if v == m {
			delete(managers, k)
		}
	}
}
