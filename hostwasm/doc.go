// Package hostwasm will run siohost's protocol core compiled to WebAssembly
// inside wazero, under the same server and client API and transports as
// hostnative, so the protocol logic also serves plugins and sandboxes. It is
// empty until the WebAssembly issue lands.
package hostwasm
