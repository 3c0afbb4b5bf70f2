package sio

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mpClient returns a Client with the msgpack parser whose "/" is connected.
func mpClient(t *testing.T) *Client {
	t.Helper()
	c := NewClient()
	c.SetParser(ParserMsgpack)
	require.Equal(t, ParserMsgpack, c.Parser())
	require.NoError(t, c.Connect(1, "/", nil, nil))
	c.EngineOpen(1, 4, "E")
	effs := c.Effects()
	require.Len(t, effs, 1)
	// {type: 0, data: undefined, nsp: "/"}, as socket.io-client sends it.
	assert.Equal(t, "\x83\xa4type\x00\xa4data\xd4\x00\x00\xa3nsp\xa1/", string(effs[0].Data))
	assert.True(t, effs[0].Binary)
	c.Message(2, true, []byte("\x83\xa4type\x00\xa4data\x82\xa3sid\xa1S\xa3pid\xd4\x00\x00\xa3nsp\xa1/"))
	require.True(t, c.Connected("/"))
	assert.Equal(t, "S", c.SID("/"))
	c.Effects()
	return c
}

// TestClientMsgpackReceive: events and acks arrive in the JSON form, their
// binary values as attachments; a CONNECT_ERROR and a DISCONNECT too.
func TestClientMsgpackReceive(t *testing.T) {
	c := mpClient(t)
	// {type: 2, data: ["ev", {a: bin [1,2]}, 1.5], id: 7, nsp: "/"}
	c.Message(3, true, []byte("\x84\xa4type\x02\xa4data\x93\xa2ev\x81\xa1a\xc4\x02\x01\x02\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xa2id\x07\xa3nsp\xa1/"))
	effs := c.Effects()
	require.Len(t, effs, 1)
	e := effs[0]
	assert.Equal(t, CEffEvent, e.Kind)
	assert.Equal(t, "ev", e.Name)
	assert.Equal(t, int64(7), e.ID)
	assert.Equal(t, `["ev",{"a":{"_placeholder":true,"num":0}},1.5]`, string(e.Data))
	assert.Equal(t, [][]byte{{1, 2}}, e.Attachments)

	id, err := c.Emit(4, "/", "q", nil, nil, true)
	require.NoError(t, err)
	c.Effects()
	c.Message(5, true, []byte("\x84\xa2id\x00\xa4type\x03\xa4data\x91\xa2ok\xa3nsp\xa1/"))
	effs = c.Effects()
	require.Len(t, effs, 1)
	assert.Equal(t, CEffAck, effs[0].Kind)
	assert.Equal(t, id, effs[0].ID)
	assert.Equal(t, `["ok"]`, string(effs[0].Data))

	c.Message(6, true, []byte("\x82\xa4type\x01\xa3nsp\xa1/"))
	effs = c.Effects()
	require.NotEmpty(t, effs)
	assert.Equal(t, CEffDisconnect, effs[0].Kind)
	assert.Equal(t, ReasonIOServerDisconnect, effs[0].Text)

	// A refusal with data.
	c = NewClient()
	c.SetParser(ParserMsgpack)
	require.NoError(t, c.Connect(1, "/x", []byte(`{"t":"bad"}`), nil))
	c.EngineOpen(1, 4, "E")
	c.Effects()
	c.Message(2, true, []byte("\x83\xa4type\x04\xa4data\x82\xa7message\xa2no\xa4data\x81\xa4code\xcd\x01\x91\xa3nsp\xa2/x"))
	effs = c.Effects()
	require.NotEmpty(t, effs)
	assert.Equal(t, CEffConnectError, effs[0].Kind)
	assert.Equal(t, "no", effs[0].Text)
	assert.Equal(t, `{"code":401}`, string(effs[0].Data))
}

// TestClientMsgpackParseError: a text message, or a binary one that is not
// a msgpack packet, closes the session with "parse error", as
// socket.io-client does.
func TestClientMsgpackParseError(t *testing.T) {
	for name, m := range map[string]struct {
		binary bool
		data   string
		err    error
	}{
		"text":    {false, `42["ev"]`, ErrMsgpackText},
		"garbage": {true, "\x01\x02", ErrMsgpack},
	} {
		t.Run(name, func(t *testing.T) {
			c := mpClient(t)
			c.Message(3, m.binary, []byte(m.data))
			effs := c.Effects()
			require.Len(t, effs, 3)
			require.Equal(t, CEffError, effs[0].Kind)
			assert.ErrorIs(t, effs[0].Err, m.err)
			assert.Contains(t, effs[0].Err.Hint, "parser")
			assert.Equal(t, CEffDisconnect, effs[1].Kind)
			assert.Equal(t, "parse error", effs[1].Text)
			assert.Equal(t, CEffCloseEngine, effs[2].Kind)
			assert.Equal(t, "parse error", effs[2].Text)
		})
	}
}

// TestClientMsgpackSend: emits buffered before the connection go out as
// binary messages once connected; invalid JSON arguments are refused.
func TestClientMsgpackSend(t *testing.T) {
	c := NewClient()
	c.SetParser(ParserMsgpack)
	require.NoError(t, c.Declare("/"))
	_, err := c.Emit(1, "/", "early", []byte(`[{"_placeholder":true,"num":0}]`), [][]byte{{5}}, false)
	require.NoError(t, err)
	_, err = c.Emit(1, "/", "bad", []byte(`[nope]`), nil, false)
	require.ErrorIs(t, err, ErrInvalidArgs)
	require.NoError(t, c.Connect(1, "/", []byte(`{"a":1}`), nil))
	c.EngineOpen(1, 4, "E")
	effs := c.Effects()
	require.Len(t, effs, 1)
	assert.Equal(t, "\x83\xa4type\x00\xa4data\x81\xa1a\x01\xa3nsp\xa1/", string(effs[0].Data))
	c.Message(2, true, []byte("\x83\xa4type\x00\xa4data\x81\xa3sid\xa1S\xa3nsp\xa1/"))
	effs = c.Effects()
	require.Len(t, effs, 2)
	assert.Equal(t, CEffSend, effs[0].Kind)
	assert.True(t, effs[0].Binary)
	assert.Equal(t, "\x84\xa4type\x02\xa4data\x92\xa5early\xc4\x01\x05\xa7options\x81\xa8compress\xc3\xa3nsp\xa1/", string(effs[0].Data))
	assert.Equal(t, CEffConnected, effs[1].Kind)

	require.ErrorIs(t, c.Ack(3, "/", 1, []byte(`[x]`), nil), ErrInvalidArgs)
	require.NoError(t, c.Ack(3, "/", 1, nil, nil))
	effs = c.Effects()
	require.Len(t, effs, 1)
	assert.Equal(t, "\x84\xa4type\x03\xa2id\x01\xa4data\x90\xa3nsp\xa1/", string(effs[0].Data))
	// Each decoded packet is checked as the server checks it.
	p, atts, err := DecodeMsgpack(effs[0].Data)
	require.NoError(t, err)
	assert.Equal(t, Ack, p.Type)
	assert.Empty(t, atts)
}
