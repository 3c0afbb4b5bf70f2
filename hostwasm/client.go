package hostwasm

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/siohost/siohost/core/abi"
)

// NewClientCore instantiates the module for Socket.IO clients: an
// abi.ClientBackend over its client_process export, through which a
// hostnative Manager runs its protocol in WebAssembly with the same API
// and transports as natively. Its signature is that of hostnative's
// ManagerOptions.Core (= module.NewClientCore). Each call makes its own
// instance, released by the backend's Close.
func (m *Module) NewClientCore() (abi.ClientBackend, error) {
	in, err := m.instantiate(context.Background())
	if err != nil {
		return nil, err
	}
	if in.fn[fnClientProcess] == nil || in.fn[fnClientABIVersion] == nil {
		in.discard()
		return nil, errors.New("hostwasm: the module has no client exports")
	}
	v, err := in.call0(fnClientABIVersion)
	if err != nil {
		return nil, in.trap(err)
	}
	if int32(v) != abi.ClientVersion {
		in.discard()
		return nil, fmt.Errorf("%w: client %d, not %d", ErrVersion, int32(v), abi.ClientVersion)
	}
	return &abi.ClientRecords{Process: in.ClientProcess, Release: in.Close}, nil
}

// ClientProcess runs n client input records (the client_process export)
// and returns the output list, which aliases the guest's memory until the
// next call.
func (i *Instance) ClientProcess(now int64, in []byte, n int) ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return nil, i.err
	}
	if err := i.writeInput(in); err != nil {
		return nil, err
	}
	i.call[0], i.call[1] = api.EncodeF64(float64(now)), api.EncodeI32(int32(n))
	if err := i.fn[fnClientProcess].CallWithStack(i.ctx, i.call[:]); err != nil {
		return nil, i.trap(err)
	}
	return i.outputBytes(api.DecodeI32(i.call[0]))
}
