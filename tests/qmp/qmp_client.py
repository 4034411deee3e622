# SPDX-License-Identifier: GPL-2.0-or-later
"""A small QMP client in Python 3 (standard library only), written apart
from the C one (qmp_client.c) so that the tests notice anything only our
own client tolerates.

It is strict about the wire: every message the server sends must be exactly
one line ending in CRLF, valid UTF-8, one JSON object that json.loads
accepts (no NaN or Infinity, no duplicate member names). Anything else
raises ProtocolError naming the offending bytes.

    c = QMPClient("/path/to/socket")   # connects, reads the greeting
    c.negotiate()                      # qmp_capabilities
    c.command("query-status")          # the "return" value, or CommandError
    r = c.execute("stop", id="x")      # the whole response, id checked
    ev = c.wait_event("STOP")          # events are queued until asked for
    c.send_raw(b"{...}\\r\\n", chunk=1) # bytes as they are, in pieces
"""
import collections
import json
import socket
import time


# execute()'s id: a fresh integer (AUTO) or no id member at all (OMIT).
AUTO = object()
OMIT = object()


class ProtocolError(Exception):
    """The server broke the wire format or the conversation."""


class CommandError(Exception):
    """A command answered with {"error": ...}."""

    def __init__(self, response):
        err = response.get("error", {})
        self.cls = err.get("class")
        self.desc = err.get("desc")
        self.response = response
        super().__init__(f"{self.cls}: {self.desc}")


def _no_constants(name):
    raise ValueError(f"'{name}' is not JSON")


def _unique_members(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"member '{key}' appears twice")
        obj[key] = value
    return obj


def parse_line(line):
    """One message from one line of bytes (CRLF included), strictly."""
    if not line.endswith(b"\r\n"):
        raise ProtocolError(f"a message that does not end in CRLF: {line[:200]!r}")
    body = line[:-2]
    if b"\r" in body or b"\n" in body:
        raise ProtocolError(f"a message with a CR or LF inside it: {line[:200]!r}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"a message that is not UTF-8 ({e}): {line[:200]!r}") from None
    try:
        msg = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constants)
    except ValueError as e:
        raise ProtocolError(f"a line that is not JSON ({e}): {line[:200]!r}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"a message that is not a JSON object: {line[:200]!r}")
    return msg


def is_event(msg):
    return "event" in msg


class QMPClient:
    """One connection to a QMP server on a unix socket."""

    def __init__(self, path=None, timeout=5.0, sock=None):
        self.timeout = timeout
        self.events = collections.deque()
        self.lines = []  # every raw line received, in order
        self._buf = b""
        self._next_id = 0
        self.eof = False
        if sock is None:
            sock = self._connect(path, timeout)
        self.sock = sock
        self.greeting = self.read_message()
        if "QMP" not in self.greeting:
            raise ProtocolError(f"the first message is not the greeting: {self.greeting}")

    @staticmethod
    def _connect(path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError as e:
                s.close()
                if time.monotonic() >= deadline:
                    raise ProtocolError(f"cannot connect to {path}: {e}") from None
                time.sleep(0.01)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- bytes ----

    def send_raw(self, data, chunk=None, pause=0.0):
        """Sends bytes as they are; with `chunk`, in pieces of that size
        (one send each, `pause` seconds apart)."""
        if chunk is None:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out waiting for the server")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("timed out waiting for the server") from None
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            raise EOFError("the server closed the connection")
        self._buf += data

    def read_message(self, timeout=None):
        """The next message of any kind."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self._buf:
            self._fill(deadline)
        line, self._buf = self._buf.split(b"\n", 1)
        line += b"\n"
        self.lines.append(line)
        return parse_line(line)

    def read_response(self, timeout=None):
        """The next message that is not an event; events are queued."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.read_message(max(deadline - time.monotonic(), 0.001))
            if not is_event(msg):
                return msg
            self.events.append(msg)

    def wait_eof(self, timeout=None):
        """True once the server has closed the connection (messages that
        come first are kept: events queued, others in `self.trailing`)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.trailing = []
        try:
            while True:
                msg = self.read_message(max(deadline - time.monotonic(), 0.001))
                (self.events if is_event(msg) else self.trailing).append(msg)
        except EOFError:
            return True
        except TimeoutError:
            return False

    # ---- commands ----

    def execute(self, name, arguments=None, id=AUTO):
        """Sends one command and returns the whole response, after checking
        that it carries the id back. The id is any JSON value, a fresh
        integer (AUTO) or none (OMIT); `arguments` is sent as it is, so it
        may be something other than an object."""
        if id is AUTO:
            id = self._next_id
            self._next_id += 1
        req = {"execute": name}
        if arguments is not None:
            req["arguments"] = arguments
        if id is not OMIT:
            req["id"] = id
        self.send_raw(json.dumps(req).encode() + b"\r\n")
        resp = self.read_response()
        if ("return" in resp) == ("error" in resp):
            raise ProtocolError(f"a response with neither or both of return/error: {resp}")
        if id is OMIT:
            if "id" in resp:
                raise ProtocolError(f"an id in the response to a request without one: {resp}")
        elif "id" not in resp or resp["id"] != id or type(resp["id"]) is not type(id):
            raise ProtocolError(f"sent id {id!r}, the response has {resp.get('id', '(none)')!r}")
        return resp

    def command(self, name, arguments=None):
        """The command's "return" value; CommandError if it failed."""
        resp = self.execute(name, arguments)
        if "error" in resp:
            raise CommandError(resp)
        return resp["return"]

    def negotiate(self):
        ret = self.command("qmp_capabilities")
        if ret != {}:
            raise ProtocolError(f"qmp_capabilities returned {ret!r}, not {{}}")
        return self

    # ---- events ----

    def wait_event(self, name, timeout=None):
        """The first queued or next event called `name`; the events before
        it stay queued. A response arriving meanwhile is a ProtocolError."""
        for ev in list(self.events):
            if ev["event"] == name:
                self.events.remove(ev)
                return ev
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.read_message(max(deadline - time.monotonic(), 0.001))
            if not is_event(msg):
                raise ProtocolError(f"a response while waiting for event {name}: {msg}")
            if msg["event"] == name:
                return msg
            self.events.append(msg)

    def event_names(self):
        return [ev["event"] for ev in self.events]
