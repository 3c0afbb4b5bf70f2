// Package transcript reads the golden session transcripts of core/testdata
// and replays them through any abi.Backend: the native core in this
// package's tests (with every expectation checked), the WebAssembly core
// in hostwasm's (step by step against the native run). One reader, one
// replayer, for every host of the core.
//
// Engine.IO transcripts are core/testdata/sessions/*.json, Socket.IO ones
// core/testdata/sio_sessions/*.json (their core runs a sio.Server over the
// eio.Server). A transcript is plain JSON:
//
//	{
//	  "description": "what the transcript proves",
//	  "config": {
//	    "pingInterval": 300, "pingTimeout": 200, "upgradeTimeout": 1000,
//	    "maxPayload": 1000000,            // missing or 0: the reference defaults
//	    "allowEIO3": false,
//	    "allowUpgrades": true,            // default true
//	    "transports": ["polling", "websocket"],  // default both
//	    "random": ["hex", ...],           // optional, see below
//	    "idPrefix": "Z",                  // optional
//	    "connectTimeout": 45000           // Socket.IO; missing or 0: 45000
//	  },
//	  "steps": [ { "now": 0, <one input>, "result": ..., "expect": [...],
//	               "deadline": 300, "open": 1, "joined": {"1": ["/"]} }, ... ]
//	}
//
// Randomness: the core asks for random bytes (15 per session id). With
// "random", its hex strings are handed out in order; without it, call k
// (from 1) gets 15 bytes equal to k, so the first session id is
// "AQEBAQEBAQEBAQEBAQEB", the second "AgICAgICAgICAgICAgIC".
//
// Sessions are numbered 1, 2, ... in the order of their "open" effects.
// "$sid" stands for the id of the last session opened and "$sidN" for that
// of session N, in request.sid and in the data, text and desc of expected
// effects.
//
// Each step has a time "now" (milliseconds, never decreasing) and exactly
// one input:
//
//	"request":  {"conn", "method", "eio", "transport", "sid", "b64",
//	             "upgrade", "binary", "origin", "badOrigin", "refused",
//	             "refusedMessage", "jsonp", "j"}            Backend.Request
//	"body":     {"conn", "session", "data"|"hex", "status": "ok"|"tooLarge"|
//	             "timeout"|"aborted"}                       Backend.Body
//	"frame":    {"conn", "session", "binary", "data"|"hex"} Backend.Frame
//	"closed":   {"conn", "session", "errored"}              Backend.ConnClosed
//	"close":    {"session", "reason"}                       Backend.CloseSession
//	"closeAll": {"reason"}                                  Backend.CloseAll
//	"tick":     {}                                          Backend.Tick
//	"send":     Engine.IO: {"session", "binary", "data"|"hex"}   Backend.Send
//	            Socket.IO: {"session", "nsp", "text", "attachments", "volatile",
//	                        "noCompress"}
//	                                                        Backend.Emit
//	"accept":   {"session", "nsp", "sid", "pid"}            Backend.Accept
//	"refuse":   {"session", "nsp", "message", "data"}       Backend.Refuse
//	"leave":    {"session", "nsp"}                          Backend.Leave
//
// body, frame and closed address the session that the request of the same
// conn was attached to (0 when it was refused), unless "session" names
// one; the other inputs default to the last session opened. refuse.data is
// the JSON text of the error's data, as a string (absent: none);
// send.text is the text part of an encoded packet (without the Engine.IO
// prefix 4) and send.attachments its binary parts as hex strings.
//
// "result" checks the return value: for a request the number of the
// session it was attached to (0 when refused), for send, accept and leave
// a boolean. "expect" lists every effect of the step, in order (missing:
// none). An effect is {"kind", "conn", "session", "status", "content",
// "binary", "noCompress", "prefix"|"prefixHex", "data"|"hex", "text",
// "desc", "nsp", "id", "attachments"}; kind is respond, readBody, accept, reject, write,
// closeConn, open, message, upgrade, close, error, or, for Socket.IO:
//
//	connect     nsp, data: the auth JSON (absent when the CONNECT had none),
//	            text: a v2 client's namespace query string
//	event       nsp, data: the raw JSON array, id, attachments
//	ack         nsp, data: the raw JSON array, id, attachments
//	disconnect  nsp, text: the reason
//
// content is text, binary, html or json; session is the session number;
// attachments are hex strings; an absent id is -1 for the Socket.IO kinds
// and 0 for the others. Other absent fields are zero, and every field is
// compared. "deadline" checks NextDeadline after the step (null: no timer
// pending), "open" checks Len(), and "joined" maps session numbers to the
// namespaces they have joined, in joining order.
package transcript
