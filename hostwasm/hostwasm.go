package hostwasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
)

// Options tune a Module.
type Options struct {
	// MemoryLimitPages caps the memory of each instance, in 64 KiB pages
	// (default 4096: 256 MiB). The whole limit is reserved up front, so
	// that growing the guest's memory never copies it: as address space
	// only (pages are backed as the guest uses them) on Linux, macOS and
	// FreeBSD, on the Go heap elsewhere.
	MemoryLimitPages uint32
	// Cache shares compiled code between Modules, and between processes
	// when it is wazero.NewCompilationCacheWithDir. nil: the Module has its
	// own in-memory cache.
	Cache wazero.CompilationCache
	// Stderr receives what the guest's runtime prints, such as the trace
	// of a fatal error. nil: discarded.
	Stderr io.Writer
}

// Module is the core module compiled once, from which instances are made.
// It is safe for concurrent use.
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	opts     Options

	mu        sync.Mutex
	closed    bool
	instances map[*Instance]struct{} // live, to fence off at Close
}

// exports the host needs, with their signatures checked at Compile.
var exports = []struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
}{
	{"_initialize", nil, nil},
	{"abi_version", nil, []api.ValueType{api.ValueTypeI32}},
	{"input_ptr", nil, []api.ValueType{api.ValueTypeI32}},
	{"input_cap", nil, []api.ValueType{api.ValueTypeI32}},
	{"input_reserve", []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{"output_ptr", nil, []api.ValueType{api.ValueTypeI32}},
	{"output_cap", nil, []api.ValueType{api.ValueTypeI32}},
	{"configure", []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{"process", []api.ValueType{api.ValueTypeF64, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{"tick", []api.ValueType{api.ValueTypeF64}, []api.ValueType{api.ValueTypeI32}},
	{"next_deadline", nil, []api.ValueType{api.ValueTypeF64}},
	{"last_error", nil, []api.ValueType{api.ValueTypeI32}},
}

// Compile compiles the core module wasm (the output of bindings/wasm's
// build) and checks that it exports the ABI this package speaks.
func Compile(ctx context.Context, wasm []byte, opts Options) (*Module, error) {
	if opts.MemoryLimitPages == 0 {
		opts.MemoryLimitPages = 4096
	}
	if opts.Cache == nil {
		opts.Cache = wazero.NewCompilationCache()
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(opts.MemoryLimitPages).
		WithMemoryCapacityFromMax(true).
		WithCompilationCache(opts.Cache)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("hostwasm: WASI: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("hostwasm: compiling the core module: %w", err)
	}
	defs := compiled.ExportedFunctions()
	for _, x := range exports {
		d, ok := defs[x.name]
		if !ok || !sameTypes(d.ParamTypes(), x.params) || !sameTypes(d.ResultTypes(), x.results) {
			rt.Close(ctx)
			return nil, fmt.Errorf("hostwasm: the module lacks the export %s of ABI version %d", x.name, abi.Version)
		}
	}
	return &Module{rt: rt, compiled: compiled, opts: opts, instances: make(map[*Instance]struct{})}, nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Close releases the module and every instance made from it. An instance
// still in use fails its later calls with an error (a call in progress is
// waited for): its memory is gone, so the effects of its last call must
// have been used already, which holds when its owner (a Server or Manager)
// was closed first.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	live := make([]*Instance, 0, len(m.instances))
	for i := range m.instances {
		live = append(live, i)
	}
	m.mu.Unlock()
	for _, i := range live {
		i.mu.Lock()
		if i.err == nil {
			i.err = errModuleClosed
		}
		i.mu.Unlock()
	}
	return m.rt.Close(ctx)
}

var errModuleClosed = errors.New("hostwasm: module closed")

// track registers a new instance, unless the module is closed.
func (m *Module) track(in *Instance) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errModuleClosed
	}
	m.instances[in] = struct{}{}
	return nil
}

func (m *Module) untrack(in *Instance) {
	m.mu.Lock()
	delete(m.instances, in)
	m.mu.Unlock()
}

// Instance is one guest: one core with many sessions. Its methods mirror
// those of eio.Server and sio.Server and return the effects of the call.
// The byte fields of those effects alias the guest's memory: they are
// valid until the next call into the instance, so a host copies what it
// keeps, and a host that shares an instance among goroutines holds its own
// lock across a call and its use of the effects (the instance's mutex only
// keeps two calls from running in the guest at once).
type Instance struct {
	mu    sync.Mutex
	ctx   context.Context
	mod   api.Module
	mem   api.Memory
	fn    [len(exportNames)]api.Function
	err   error // set once the instance is discarded
	owner *Module
	enc   abi.Encoder
	out   abi.Output
	cfg   []byte
	call  [2]uint64

	inPtr, inCap, outPtr, outCap uint32
}

// Indexes of Instance.fn.
const (
	fnInputPtr = iota
	fnInputCap
	fnInputReserve
	fnOutputPtr
	fnOutputCap
	fnConfigure
	fnProcess
	fnTick
	fnNextDeadline
	fnLastError
	fnABIVersion
	fnClientProcess
	fnClientABIVersion
)

var exportNames = [...]string{"input_ptr", "input_cap", "input_reserve", "output_ptr", "output_cap",
	"configure", "process", "tick", "next_deadline", "last_error", "abi_version",
	"client_process", "client_abi_version"}

// ErrVersion reports a module built for another ABI version.
var ErrVersion = errors.New("hostwasm: the module speaks another ABI version")

// NewInstance instantiates the module (running _initialize) and
// configures its core.
func (m *Module) NewInstance(ctx context.Context, cfg abi.Config) (*Instance, error) {
	in, err := m.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Configure(cfg); err != nil {
		in.discard()
		return nil, err
	}
	return in, nil
}

// instantiate runs a new guest, its version checked and its arenas known,
// with no core configured.
func (m *Module) instantiate(ctx context.Context) (*Instance, error) {
	stderr := m.opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithRandSource(rand.Reader).
		WithStderr(stderr).
		WithSysNanotime().
		WithSysWalltime()
	mod, err := m.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, mmapAllocator()), m.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("hostwasm: instantiating the core module: %w", err)
	}
	in := &Instance{ctx: context.Background(), mod: mod, mem: mod.Memory(), owner: m}
	if err := m.track(in); err != nil {
		mod.Close(ctx)
		return nil, err
	}
	for i, name := range exportNames {
		in.fn[i] = mod.ExportedFunction(name)
	}
	v, err := in.call0(fnABIVersion)
	if err != nil {
		return nil, in.trap(err)
	}
	if int32(v) != abi.Version {
		in.discard()
		return nil, fmt.Errorf("%w: %d, not %d", ErrVersion, int32(v), abi.Version)
	}
	if err := in.refreshArenas(); err != nil {
		return nil, err
	}
	return in, nil
}

// Close discards the instance.
func (i *Instance) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err == nil {
		i.err = errClosed
	}
	i.owner.untrack(i)
	return i.mod.Close(i.ctx)
}

var errClosed = errors.New("hostwasm: instance closed")

// discard releases the guest of an instance that is not handed out.
func (i *Instance) discard() {
	i.owner.untrack(i)
	_ = i.mod.Close(i.ctx)
}

// Err returns the error that discarded the instance, or nil while it is
// usable.
func (i *Instance) Err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err
}

// Configure replaces the instance's core with a new one configured with
// cfg: every session is dropped.
func (i *Instance) Configure(cfg abi.Config) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return i.err
	}
	i.cfg = abi.AppendConfig(i.cfg[:0], &cfg)
	if err := i.writeInput(i.cfg); err != nil {
		return err
	}
	i.call[0] = api.EncodeU32(uint32(len(i.cfg)))
	if err := i.fn[fnConfigure].CallWithStack(i.ctx, i.call[:]); err != nil {
		return i.trap(err)
	}
	if st := api.DecodeI32(i.call[0]); st < 0 {
		return i.status(st)
	}
	return nil
}

// call0 calls an export without parameters and returns its result.
func (i *Instance) call0(fn int) (uint64, error) {
	if err := i.fn[fn].CallWithStack(i.ctx, i.call[:]); err != nil {
		return 0, err
	}
	return i.call[0], nil
}

func (i *Instance) refreshArenas() error {
	var vals [4]uint64
	for k, fn := range [...]int{fnInputPtr, fnInputCap, fnOutputPtr, fnOutputCap} {
		v, err := i.call0(fn)
		if err != nil {
			return i.trap(err)
		}
		vals[k] = v
	}
	i.inPtr, i.inCap, i.outPtr, i.outCap = uint32(vals[0]), uint32(vals[1]), uint32(vals[2]), uint32(vals[3])
	return nil
}

// trap discards the instance after a failed call.
func (i *Instance) trap(err error) error {
	i.err = fmt.Errorf("hostwasm: the instance trapped and was discarded: %w", err)
	i.discard()
	return i.err
}

// status turns a negative status into an error. A recovered panic
// discards the instance, as the core's state may be half updated.
func (i *Instance) status(st int32) error {
	msg := i.lastError()
	if st == abi.StatusPanic {
		i.err = fmt.Errorf("hostwasm: the core panicked (instance discarded): %s", msg)
		i.discard()
		return i.err
	}
	return fmt.Errorf("hostwasm: %w: %s", abi.StatusError(st), msg)
}

func (i *Instance) lastError() string {
	v, err := i.call0(fnLastError)
	if err != nil {
		return "(last_error failed: " + err.Error() + ")"
	}
	n := uint32(v)
	if n > i.outCap {
		if p, err := i.call0(fnOutputPtr); err == nil {
			i.outPtr = uint32(p)
		}
		if c, err := i.call0(fnOutputCap); err == nil {
			i.outCap = uint32(c)
		}
	}
	b, ok := i.mem.Read(i.outPtr, n)
	if !ok {
		return "(message out of bounds)"
	}
	return string(b)
}

// writeInput copies b to the input arena, growing it first if needed.
func (i *Instance) writeInput(b []byte) error {
	if uint64(len(b)) > 1<<30 {
		return fmt.Errorf("hostwasm: %d bytes of input in one call (1 GiB at most)", len(b))
	}
	if uint32(len(b)) > i.inCap {
		i.call[0] = api.EncodeU32(uint32(len(b)))
		if err := i.fn[fnInputReserve].CallWithStack(i.ctx, i.call[:]); err != nil {
			return i.trap(err)
		}
		p := uint32(i.call[0])
		if p == 0 {
			return fmt.Errorf("hostwasm: the guest cannot take %d bytes of input", len(b))
		}
		c, err := i.call0(fnInputCap)
		if err != nil {
			return i.trap(err)
		}
		i.inPtr, i.inCap = p, uint32(c)
	}
	if !i.mem.Write(i.inPtr, b) {
		return i.trap(errors.New("input arena out of bounds"))
	}
	return nil
}

// run sends the encoder's records to process and decodes the output.
func (i *Instance) run(now int64) error { return i.runBatch(now, &i.enc) }

func (i *Instance) runBatch(now int64, batch *abi.Encoder) error {
	if i.err != nil {
		return i.err
	}
	if err := i.writeInput(batch.Bytes()); err != nil {
		return err
	}
	i.call[0], i.call[1] = api.EncodeF64(float64(now)), api.EncodeI32(int32(batch.Len()))
	if err := i.fn[fnProcess].CallWithStack(i.ctx, i.call[:]); err != nil {
		return i.trap(err)
	}
	return i.readOutput(api.DecodeI32(i.call[0]))
}

func (i *Instance) readOutput(n int32) error {
	b, err := i.outputBytes(n)
	if err != nil {
		return err
	}
	if err := i.out.Decode(b); err != nil {
		return i.trap(fmt.Errorf("decoding the output: %w", err))
	}
	return nil
}

// outputBytes returns the n bytes of output a call wrote (an alias of the
// guest's memory), or the error its negative status means.
func (i *Instance) outputBytes(n int32) ([]byte, error) {
	if n < 0 {
		return nil, i.status(n)
	}
	if uint32(n) > i.outCap {
		// The output arena grew, and so moved.
		p, err := i.call0(fnOutputPtr)
		if err != nil {
			return nil, i.trap(err)
		}
		c, err := i.call0(fnOutputCap)
		if err != nil {
			return nil, i.trap(err)
		}
		i.outPtr, i.outCap = uint32(p), uint32(c)
	}
	b, ok := i.mem.Read(i.outPtr, uint32(n))
	if !ok {
		return nil, i.trap(errors.New("output arena out of bounds"))
	}
	return b, nil
}

// one runs the single record in the encoder and returns its result and
// effects.
func (i *Instance) one(now int64) (int64, []eio.Effect, error) {
	if err := i.run(now); err != nil {
		return 0, nil, err
	}
	if len(i.out.Results) != 1 {
		return 0, nil, i.trap(errors.New("the output has no result for the input"))
	}
	return i.out.Results[0].Value, i.out.Effects, nil
}
