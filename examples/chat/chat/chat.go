// Package chat is the chat demo that cmd/siohost and examples/chat serve:
// Register installs its event handlers on a Socket.IO server, Page is the
// browser page (which speaks to it with the official socket.io-client), and
// ClientJS serves that client's bundle from the npm package, at run time.
//
// The protocol between the page and the server:
//
//	client → server
//	  auth {nick, room}          handshake: nickname and room to (re)join
//	  "nick"    name, ack        rename; ack {nick} or {error}
//	  "join"    room, ack        switch rooms; ack {room, members} or {error}
//	  "leave"   ack              leave the current room; ack {room: ""}
//	  "message" text, ack        to the current room; ack {time} or {error}
//	  "image"   {name, type}, binary, ack   relayed as binary; ack as message
//	  "typing"  bool             relayed, volatile, to the room except the sender
//	server → client
//	  "welcome"  {id, nick, room, maxImageBytes, maxTextLength}
//	  "message"  {room, from, nick, text, time}
//	  "image"    {room, from, nick, name, type, size, time}, binary
//	  "typing"   {room, from, nick, typing}
//	  "presence" {room, members, text}       someone joined, left, or renamed
//	  "rooms"    [{name, members}]           the rooms that have people in them
package chat

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/siohost/siohost/hostnative"
)

// Page is the chat page, served at "/".
//
//go:embed chat.html
var Page []byte

// PageHandler serves Page.
func PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(Page)
	})
}

const (
	// DefaultRoom is the room a client without one joins.
	DefaultRoom = "lobby"
	// MaxImageBytes bounds an image. Binary parts travel base64-encoded on
	// long-polling, so the engine's MaxHTTPBufferSize (1e6 by default) must
	// be above 4/3 of this.
	MaxImageBytes = 512 << 10
	// MaxTextLength bounds a message, in characters.
	MaxTextLength = 2000
	maxNameLength = 24
)

// roomPrefix keeps chat rooms apart from the rooms Socket.IO puts each
// socket in (named after its id), so a client cannot join another's.
const roomPrefix = "room:"

// user is what a socket carries (SetData); it is replaced, never mutated,
// so other sockets' handlers may read it at any time.
type user struct {
	Nick string
	Room string // "" when in no room
}

func userOf(s *hostnative.Socket) user {
	u, _ := s.Data().(user)
	return u
}

// Message is a chat message as relayed to the room.
type Message struct {
	Room string `json:"room"`
	From string `json:"from"`
	Nick string `json:"nick"`
	Text string `json:"text"`
	Time int64  `json:"time"`
}

// Image describes an image relayed to the room; its bytes follow it as a
// binary argument.
type Image struct {
	Room string `json:"room"`
	From string `json:"from"`
	Nick string `json:"nick"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
	Time int64  `json:"time"`
}

// Typing tells a room that someone started or stopped typing.
type Typing struct {
	Room   string `json:"room"`
	From   string `json:"from"`
	Nick   string `json:"nick"`
	Typing bool   `json:"typing"`
}

// Presence tells a room who is in it after someone joined, left or
// renamed themselves.
type Presence struct {
	Room    string   `json:"room"`
	Members []string `json:"members"`
	Text    string   `json:"text"`
}

// RoomInfo is an entry of the "rooms" list.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// Delivered acknowledges a message or an image with the server's time.
type Delivered struct {
	Time int64 `json:"time"`
}

type failure struct {
	Error string `json:"error"`
}

// Register installs the chat on the "/" namespace of io.
func Register(io *hostnative.Server) {
	c := &chat{ns: io.Of("/")}
	c.ns.OnConnection(c.connected)
}

type chat struct {
	ns *hostnative.Namespace
	// mu orders the changes of membership (join, leave, rename, disconnect)
	// and the member lists that announce them, so that the last list a
	// client gets is the current one.
	mu sync.Mutex
}

func now() int64 { return time.Now().UnixMilli() }

func (c *chat) connected(s *hostnative.Socket) {
	var auth struct {
		Nick string `json:"nick"`
		Room string `json:"room"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	nick, ok := cleanName(auth.Nick)
	if !ok {
		nick = "guest-" + s.ID()[:4]
	}
	s.SetData(user{Nick: nick})

	s.On("nick", func(ev *hostnative.Event) { c.rename(s, ev) })
	s.On("join", func(ev *hostnative.Event) {
		var room string
		_ = ev.Arg(0, &room)
		name, ok := cleanName(room)
		if !ok {
			ack(ev, failure{"a room name has 1 to 24 characters"})
			return
		}
		ack(ev, Presence{Room: name, Members: c.join(s, name)})
	})
	s.On("leave", func(ev *hostnative.Event) {
		c.mu.Lock()
		c.leave(s, userOf(s).Nick+" left")
		c.mu.Unlock()
		ack(ev, Presence{Room: "", Members: []string{}})
	})
	s.On("message", func(ev *hostnative.Event) { c.message(s, ev) })
	s.On("image", func(ev *hostnative.Event) { c.image(s, ev) })
	s.On("typing", func(ev *hostnative.Event) {
		u := userOf(s)
		var typing bool
		if u.Room == "" || ev.Arg(0, &typing) != nil {
			return
		}
		_ = s.To(roomPrefix+u.Room).Volatile().Emit("typing", Typing{Room: u.Room, From: s.ID(), Nick: u.Nick, Typing: typing})
	})
	s.OnDisconnect(func(string, string) {
		// The socket has left its rooms by now.
		c.mu.Lock()
		defer c.mu.Unlock()
		if u := userOf(s); u.Room != "" {
			_ = c.ns.To(roomPrefix+u.Room).Emit("presence", Presence{
				Room: u.Room, Members: c.members(u.Room), Text: u.Nick + " left",
			})
		}
		c.broadcastRooms()
	})

	room, ok := cleanName(auth.Room)
	if !ok {
		room = DefaultRoom
	}
	_ = s.Emit("welcome", map[string]any{
		"id": s.ID(), "nick": nick, "room": room,
		"maxImageBytes": MaxImageBytes, "maxTextLength": MaxTextLength,
	})
	c.join(s, room)
}

// join moves s to room, telling the room it left and the one it joins,
// and returns the members of room.
func (c *chat) join(s *hostnative.Socket, room string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := userOf(s)
	if u.Room == room {
		c.sendRooms(s)
		return c.members(room)
	}
	if u.Room != "" {
		c.leave(s, u.Nick+" went to "+room)
	}
	u.Room = room
	s.SetData(u)
	s.Join(roomPrefix + room)
	members := c.members(room)
	_ = c.ns.To(roomPrefix+room).Emit("presence", Presence{Room: room, Members: members, Text: u.Nick + " joined"})
	c.broadcastRooms()
	return members
}

// leave takes s out of its room, if any. c.mu is held.
func (c *chat) leave(s *hostnative.Socket, text string) {
	u := userOf(s)
	if u.Room == "" {
		return
	}
	s.Leave(roomPrefix + u.Room)
	_ = c.ns.To(roomPrefix+u.Room).Emit("presence", Presence{
		Room: u.Room, Members: c.members(u.Room), Text: text,
	})
	u.Room = ""
	s.SetData(u)
	c.broadcastRooms()
}

func (c *chat) rename(s *hostnative.Socket, ev *hostnative.Event) {
	var name string
	_ = ev.Arg(0, &name)
	nick, ok := cleanName(name)
	if !ok {
		ack(ev, failure{"a nickname has 1 to 24 characters"})
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := userOf(s)
	old := u.Nick
	u.Nick = nick
	s.SetData(u)
	ack(ev, map[string]string{"nick": nick})
	if u.Room != "" && old != nick {
		_ = c.ns.To(roomPrefix+u.Room).Emit("presence", Presence{
			Room: u.Room, Members: c.members(u.Room), Text: old + " is now " + nick,
		})
	}
}

func (c *chat) message(s *hostnative.Socket, ev *hostnative.Event) {
	u := userOf(s)
	var text string
	switch {
	case u.Room == "":
		ack(ev, failure{"join a room first"})
		return
	case ev.Arg(0, &text) != nil || strings.TrimSpace(text) == "":
		ack(ev, failure{"a message is a non-empty string"})
		return
	case utf8.RuneCountInString(text) > MaxTextLength:
		ack(ev, failure{fmt.Sprintf("a message has at most %d characters", MaxTextLength)})
		return
	}
	m := Message{Room: u.Room, From: s.ID(), Nick: u.Nick, Text: text, Time: now()}
	_ = s.To(roomPrefix+u.Room).Emit("message", m)
	ack(ev, Delivered{Time: m.Time})
}

func (c *chat) image(s *hostnative.Socket, ev *hostnative.Event) {
	u := userOf(s)
	var meta struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	var data []byte
	switch {
	case u.Room == "":
		ack(ev, failure{"join a room first"})
		return
	case ev.Arg(0, &meta) != nil || ev.Arg(1, &data) != nil:
		ack(ev, failure{"an image is ({name, type}, binary)"})
		return
	case !strings.HasPrefix(meta.Type, "image/"):
		ack(ev, failure{"not an image"})
		return
	case len(data) == 0 || len(data) > MaxImageBytes:
		ack(ev, failure{fmt.Sprintf("an image has 1 to %d bytes", MaxImageBytes)})
		return
	}
	name, ok := cleanText(meta.Name, 100)
	if !ok {
		name = "image"
	}
	typ, _ := cleanText(meta.Type, 100)
	img := Image{Room: u.Room, From: s.ID(), Nick: u.Nick, Name: name, Type: typ, Size: len(data), Time: now()}
	_ = s.To(roomPrefix+u.Room).Emit("image", img, data)
	ack(ev, Delivered{Time: img.Time})
}

// members returns the sorted nicknames of the room.
func (c *chat) members(room string) []string {
	out := []string{}
	for _, s := range c.ns.To(roomPrefix + room).FetchSockets() {
		out = append(out, userOf(s).Nick)
	}
	slices.Sort(out)
	return out
}

// rooms lists the rooms that have people in them.
func (c *chat) rooms() []RoomInfo {
	out := []RoomInfo{}
	a := c.ns.Adapter()
	for _, r := range a.Rooms() {
		if name, ok := strings.CutPrefix(r, roomPrefix); ok {
			n := len(a.Sockets(hostnative.BroadcastOptions{Rooms: []string{r}}))
			if n > 0 {
				out = append(out, RoomInfo{Name: name, Members: n})
			}
		}
	}
	slices.SortFunc(out, func(a, b RoomInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (c *chat) broadcastRooms()                { _ = c.ns.Emit("rooms", c.rooms()) }
func (c *chat) sendRooms(s *hostnative.Socket) { _ = s.Emit("rooms", c.rooms()) }

// ack answers the client if it asked for an answer.
func ack(ev *hostnative.Event, v any) {
	if ev.HasAck() {
		_ = ev.Ack(v)
	}
}

// cleanName trims a nickname or a room name and checks its length.
func cleanName(s string) (string, bool) { return cleanText(s, maxNameLength) }

// cleanText trims s, drops control characters and checks that 1 to max
// characters remain.
func cleanText(s string, max int) (string, bool) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
	n := utf8.RuneCountInString(s)
	return s, n > 0 && n <= max
}

// ClientJSPath is where ClientJS is mounted, as Node's socket.io serves its
// client bundle: under the Socket.IO path.
const ClientJSPath = "/socket.io/socket.io.min.js"

// DefaultClientJS is the official browser client (socket.io-client 4) as
// `npm ci` installs it in testdata/interop, relative to the repository root.
const DefaultClientJS = "testdata/interop/node_modules/sio-client-v4/dist/socket.io.min.js"

// CheckClientJS tells whether the client bundle is at file, with what to
// do if it is not.
func CheckClientJS(file string) error {
	if st, err := os.Stat(file); err != nil || st.IsDir() {
		return fmt.Errorf("the socket.io browser client is missing (%s): run `make run` from the repository root, or `cd testdata/interop && npm ci`, or point -client-js at socket.io.min.js", file)
	}
	return nil
}

// ClientFiles is the folder of the client bundle at file (socket.io-client's
// dist), for ServerOptions.ClientFiles: the Socket.IO server then serves
// it at ClientJSPath, as Node's socket.io serves its client. The files are
// read at each request: they stay in node_modules, never in this
// repository.
func ClientFiles(file string) fs.FS { return os.DirFS(filepath.Dir(file)) }

// Mount adds the page at "/" to mux. The Socket.IO server, which serves
// the client bundle too (see ClientFiles), is mounted by the caller, with
// mux.Handle(io.Path(), io).
func Mount(mux *http.ServeMux) { mux.Handle("GET /{$}", PageHandler()) }
