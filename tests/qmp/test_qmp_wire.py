#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The monitor's wire protocol through a second, independent client.

    test_qmp_wire.py QMP-FAKE-SERVER [NAME-SUBSTRING...]

Each test case starts its own qmp-fake-server (the real monitor on a unix
socket over the fake machine of tests/qmp) and drives it with
qmp_client.py, which accepts only what QEMU's QMP specification allows:
one JSON object per line, CRLF, UTF-8. Return values are checked against
the shapes QEMU 7.2's QAPI schema documents (required members, their
types, no members QEMU does not have except kvmemu's own "x-" ones).
After every case the server must still be running (unless the case quit
it) and then end cleanly on SIGTERM.

Prints TAP: one line per case, diagnostics as comments.
"""
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import OMIT, CommandError, ProtocolError, QMPClient  # noqa: E402

MAX_MESSAGE = 1 << 20  # EM_QMP_MAX_MESSAGE, emulator/monitor/qmp.h

# Every command issue 5 asks for, as query-commands must list them.
COMMANDS = [
    "qmp_capabilities", "query-version", "query-commands", "query-status", "query-name",
    "query-uuid", "query-kvm", "query-cpus-fast", "query-block", "query-chardev", "stop",
    "cont", "system_powerdown", "system_reset", "quit", "x-query-boot-timeline",
]
QUERIES = [c for c in COMMANDS if c.startswith("query-") or c == "x-query-boot-timeline"]

# What the fake machine (tests/qmp/fake_machine.c) has.
FAKE_NAME = "fake"
FAKE_UUID = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
FAKE_CPUS = 2


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


# ---- the shapes of QEMU 7.2's QAPI types ----

def t_bool(v, where):
    expect(isinstance(v, bool), f"{where}: {v!r} is not a boolean")


def t_int(v, where):
    expect(isinstance(v, int) and not isinstance(v, bool), f"{where}: {v!r} is not an integer")


def t_num(v, where):
    expect(isinstance(v, (int, float)) and not isinstance(v, bool),
           f"{where}: {v!r} is not a number")


def t_str(v, where):
    expect(isinstance(v, str), f"{where}: {v!r} is not a string")


def t_enum(*values):
    def check(v, where):
        expect(v in values, f"{where}: {v!r} is not one of {', '.join(values)}")
    return check


def t_list(item):
    def check(v, where):
        expect(isinstance(v, list), f"{where}: {v!r} is not an array")
        for i, x in enumerate(v):
            item(x, f"{where}[{i}]")
    return check


def t_obj(required, optional=None):
    """An object with these members (name -> checker); "x-" members are
    allowed as kvmemu's own extensions, nothing else."""
    optional = optional or {}

    def check(v, where):
        expect(isinstance(v, dict), f"{where}: {v!r} is not an object")
        for k, c in required.items():
            expect(k in v, f"{where}: member '{k}' is missing (it has {sorted(v)})")
            c(v[k], f"{where}.{k}")
        for k, x in v.items():
            if k in required:
                continue
            if k in optional:
                optional[k](x, f"{where}.{k}")
            else:
                expect(k.startswith("x-"), f"{where}: member '{k}' is not in QEMU's schema")
    return check


RUN_STATES = t_enum("debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate",
                    "prelaunch", "finish-migrate", "restore-vm", "running", "save-vm", "shutdown",
                    "suspended", "watchdog", "guest-panicked", "colo")
VERSION_INFO = t_obj({"qemu": t_obj({"major": t_int, "minor": t_int, "micro": t_int}),
                      "package": t_str})
CPU_PROPS = t_obj({}, {k: t_int for k in ("node-id", "socket-id", "die-id", "cluster-id",
                                          "core-id", "thread-id")})
IMAGE_INFO = t_obj({"filename": t_str, "format": t_str, "virtual-size": t_int},
                   {"dirty-flag": t_bool, "actual-size": t_int, "cluster-size": t_int,
                    "encrypted": t_bool, "compressed": t_bool, "backing-filename": t_str,
                    "full-backing-filename": t_str, "backing-filename-format": t_str})
BLOCK_DEVICE_INFO = t_obj(
    {"file": t_str, "ro": t_bool, "drv": t_str, "backing_file_depth": t_int,
     "encrypted": t_bool, "detect_zeroes": t_enum("off", "on", "unmap"),
     "bps": t_int, "bps_rd": t_int, "bps_wr": t_int,
     "iops": t_int, "iops_rd": t_int, "iops_wr": t_int,
     "image": IMAGE_INFO,
     "cache": t_obj({"writeback": t_bool, "direct": t_bool, "no-flush": t_bool}),
     "write_threshold": t_int},
    {"node-name": t_str, "backing_file": t_str, "bps_max": t_int, "bps_rd_max": t_int,
     "bps_wr_max": t_int, "iops_max": t_int, "iops_rd_max": t_int, "iops_wr_max": t_int,
     "iops_size": t_int, "group": t_str})
SHAPES = {
    "query-version": VERSION_INFO,
    "query-commands": t_list(t_obj({"name": t_str})),
    "query-status": t_obj({"running": t_bool, "singlestep": t_bool, "status": RUN_STATES}),
    "query-name": t_obj({}, {"name": t_str}),
    "query-uuid": t_obj({"UUID": t_str}),
    "query-kvm": t_obj({"enabled": t_bool, "present": t_bool}),
    "query-cpus-fast": t_list(t_obj(
        {"cpu-index": t_int, "qom-path": t_str, "thread-id": t_int,
         "target": t_enum("x86_64")},
        {"props": CPU_PROPS})),
    "query-block": t_list(t_obj(
        {"device": t_str, "type": t_str, "removable": t_bool, "locked": t_bool},
        {"qdev": t_str, "node-name": t_str, "inserted": BLOCK_DEVICE_INFO, "tray_open": t_bool,
         "io-status": t_enum("ok", "failed", "nospace")})),
    "query-chardev": t_list(t_obj({"label": t_str, "filename": t_str, "frontend-open": t_bool})),
    # kvmemu's own command.
    "x-query-boot-timeline": t_obj({"events": t_list(t_obj({"ms": t_num, "label": t_str}))}),
}
EMPTY = t_obj({})
ERROR = t_obj({"error": t_obj({"class": t_enum("GenericError", "CommandNotFound",
                                               "DeviceNotActive", "DeviceNotFound",
                                               "KVMMissingCap"),
                               "desc": t_str})},
              {"id": lambda v, w: None})


def check_error(resp, cls, desc_re=None, id=OMIT):
    """resp is an error of class cls whose desc matches desc_re, carrying
    `id` back (any JSON value; OMIT: no id member)."""
    ERROR(resp, "the error response")
    expect(resp["error"]["class"] == cls,
           f"error class {resp['error']['class']!r} ({resp['error']['desc']!r}), expected {cls!r}")
    if desc_re:
        expect(re.search(desc_re, resp["error"]["desc"]),
               f"error desc {resp['error']['desc']!r} does not match /{desc_re}/")
    if id is not OMIT:
        expect("id" in resp and resp["id"] == id and type(resp["id"]) is type(id),
               f"the error carries id {resp.get('id', '(none)')!r}, expected {id!r}")
    else:
        expect("id" not in resp, f"the error carries an id it was not given: {resp}")


def check_event(ev, name, data=None):
    where = f"event {name}"
    t_obj({"event": t_str, "timestamp": t_obj({"seconds": t_int, "microseconds": t_int})},
          {"data": t_obj({}, {"guest": t_bool, "reason": t_str})})(ev, where)
    expect(ev["event"] == name, f"event {ev['event']!r}, expected {name!r}")
    ts = ev["timestamp"]
    expect(0 <= ts["microseconds"] <= 999999, f"{where}: microseconds {ts['microseconds']}")
    t = ts["seconds"] + ts["microseconds"] / 1e6
    expect(abs(t - time.time()) < 10, f"{where}: timestamp {t} is not the wall-clock time now")
    if data is None:
        expect("data" not in ev, f"{where} has data {ev.get('data')!r}; QEMU's has none")
    else:
        expect(ev.get("data") == data, f"{where}: data {ev.get('data')!r}, expected {data!r}")


# ---- the server ----

class Server:
    """qmp-fake-server on a socket in a fresh directory."""

    def __init__(self, binary):
        self.dir = tempfile.TemporaryDirectory(prefix="qmp-wire-")
        self.path = os.path.join(self.dir.name, "qmp.sock")
        self.stderr = open(os.path.join(self.dir.name, "stderr"), "w+b")
        self.proc = subprocess.Popen([binary, self.path], stdout=subprocess.PIPE,
                                     stderr=self.stderr, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if ready else b""
        if line != b"ready\n":
            self.stop()
            raise Failure(f"qmp-fake-server did not start: {line!r} {self.errors()}")
        self.quit_expected = False
        self.clients = []

    def client(self, negotiate=False, timeout=5.0):
        c = QMPClient(self.path, timeout=timeout)
        self.clients.append(c)
        return c.negotiate() if negotiate else c

    def alive(self):
        return self.proc.poll() is None

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        """Ends the server; its exit status (0 expected)."""
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        self.proc.stdout.close()
        return status

    def cleanup(self):
        self.stderr.close()
        self.dir.cleanup()


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def status_of(c):
    return c.command("query-status")["status"]


# ---- greeting and negotiation ----

@case
def greeting_shape(srv):
    """the greeting is {"QMP": {"version", "capabilities"}}, first and unasked"""
    c = srv.client()
    t_obj({"QMP": t_obj({"version": VERSION_INFO, "capabilities": t_list(t_str)})})(
        c.greeting, "the greeting")
    expect(len(c.greeting) == 1, f"the greeting has members besides QMP: {c.greeting}")
    expect("oob" not in c.greeting["QMP"]["capabilities"],
           "the greeting offers oob, which kvmemu does not implement")


@case
def negotiation_refuses_every_other_command(srv):
    """before qmp_capabilities every other command is CommandNotFound, with no effect"""
    c = srv.client()
    for i, name in enumerate([n for n in COMMANDS if n != "qmp_capabilities"] + ["no-such"]):
        resp = c.execute(name, id=i)
        check_error(resp, "CommandNotFound", "qmp_capabilities", id=i)
    expect(srv.alive(), "the server ended although quit was refused")
    c.negotiate()
    expect(status_of(c) == "running", "stop ran during negotiation")
    c.command("system_powerdown")
    c.wait_event("POWERDOWN")
    expect(c.event_names() == [], f"events from refused commands: {c.event_names()}")


@case
def negotiation_twice(srv):
    """qmp_capabilities twice: CommandNotFound the second time, the session goes on"""
    c = srv.client(negotiate=True)
    check_error(c.execute("qmp_capabilities", id="again"), "CommandNotFound",
                "already complete", id="again")
    expect(status_of(c) == "running", "the session stopped working")


@case
def negotiation_bad_capabilities(srv):
    """qmp_capabilities with an unknown capability or a wrong type fails and negotiation goes on"""
    c = srv.client()
    check_error(c.execute("qmp_capabilities", {"enable": ["oob"]}, id=1), "GenericError",
                "oob", id=1)
    check_error(c.execute("qmp_capabilities", {"enable": "oob"}, id=2), "GenericError",
                "enable", id=2)
    check_error(c.execute("qmp_capabilities", {"enable": [1]}, id=3), "GenericError",
                "enable", id=3)
    check_error(c.execute("qmp_capabilities", {"oob": True}, id=4), "GenericError", "oob", id=4)
    check_error(c.execute("query-status", id=5), "CommandNotFound", id=5)
    expect(c.command("qmp_capabilities", {"enable": []}) == {},
           "qmp_capabilities with an empty enable list failed")
    expect(status_of(c) == "running", "command mode does not work")


# ---- each command ----

@case
def every_query_has_qemus_shape(srv):
    """each query's return has QEMU 7.2's shape"""
    c = srv.client(negotiate=True)
    for name in QUERIES:
        SHAPES[name](c.command(name), name)


@case
def query_version_matches_greeting(srv):
    """query-version returns the greeting's version"""
    c = srv.client(negotiate=True)
    expect(c.command("query-version") == c.greeting["QMP"]["version"],
           "query-version differs from the greeting's version")


@case
def query_commands_lists_everything(srv):
    """query-commands lists every command once, and each listed query runs"""
    c = srv.client(negotiate=True)
    names = [x["name"] for x in c.command("query-commands")]
    expect(len(names) == len(set(names)), f"duplicates in query-commands: {names}")
    missing = set(COMMANDS) - set(names)
    expect(not missing, f"query-commands lacks {sorted(missing)}")
    for n in names:
        if n.startswith("query-"):
            c.command(n)


@case
def query_values(srv):
    """query-status, -name, -uuid, -kvm, -cpus-fast, -block, -chardev show the machine"""
    c = srv.client(negotiate=True)
    st = c.command("query-status")
    expect(st["status"] == "running" and st["running"] is True and st["singlestep"] is False,
           f"query-status {st}")
    expect(c.command("query-name") == {"name": FAKE_NAME}, "query-name")
    expect(c.command("query-uuid") == {"UUID": FAKE_UUID}, "query-uuid")
    kvm = c.command("query-kvm")
    expect(kvm["enabled"] is True and kvm["present"] is True, f"query-kvm {kvm}")
    cpus = c.command("query-cpus-fast")
    expect([x["cpu-index"] for x in cpus] == list(range(FAKE_CPUS)), f"cpu-index in {cpus}")
    expect(len({x["qom-path"] for x in cpus}) == FAKE_CPUS, "qom-paths are not distinct")
    blk = c.command("query-block")
    expect(len(blk) == 1 and blk[0]["inserted"]["image"]["virtual-size"] == 16 << 20,
           f"query-block {blk}")
    chr_ = c.command("query-chardev")
    expect(chr_ == [{"label": "serial0", "filename": "stdio", "frontend-open": True}],
           f"query-chardev {chr_}")


@case
def stop_and_cont(srv):
    """stop and cont return {}, change query-status, and emit STOP and RESUME once each"""
    c = srv.client(negotiate=True)
    expect(c.command("stop") == {}, "stop did not return {}")
    check_event(c.wait_event("STOP"), "STOP")
    st = c.command("query-status")
    expect(st["status"] == "paused" and st["running"] is False, f"after stop: {st}")
    expect(c.command("stop") == {}, "a second stop did not return {}")
    expect(c.command("cont") == {}, "cont did not return {}")
    check_event(c.wait_event("RESUME"), "RESUME")
    expect(c.event_names() == [], f"a stopped VM's stop emitted {c.event_names()}")
    st = c.command("query-status")
    expect(st["status"] == "running" and st["running"] is True, f"after cont: {st}")
    expect(c.command("cont") == {}, "cont on a running VM did not return {}")
    c.command("system_powerdown")
    c.wait_event("POWERDOWN")
    expect(c.event_names() == [], f"a running VM's cont emitted {c.event_names()}")


@case
def powerdown_and_reset(srv):
    """system_powerdown emits POWERDOWN; system_reset emits RESET with QEMU's data"""
    c = srv.client(negotiate=True)
    expect(c.command("system_powerdown") == {}, "system_powerdown did not return {}")
    check_event(c.wait_event("POWERDOWN"), "POWERDOWN")
    expect(c.command("system_reset") == {}, "system_reset did not return {}")
    check_event(c.wait_event("RESET"), "RESET",
                {"guest": False, "reason": "host-qmp-system-reset"})


@case
def boot_timeline(srv):
    """x-query-boot-timeline returns {"events": [...]}, accepts no arguments"""
    c = srv.client(negotiate=True)
    SHAPES["x-query-boot-timeline"](c.command("x-query-boot-timeline"), "x-query-boot-timeline")
    check_error(c.execute("x-query-boot-timeline", {"since": 1}, id=9), "GenericError",
                "since", id=9)


@case
def quit_ends_the_server(srv):
    """quit returns {}, SHUTDOWN follows, the connection closes and the server exits 0"""
    c = srv.client(negotiate=True)
    other = srv.client(negotiate=True)
    expect(c.command("quit") == {}, "quit did not return {}")
    srv.quit_expected = True
    check_event(c.wait_event("SHUTDOWN"), "SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
    expect(c.wait_eof(), "the connection stayed open after quit")
    expect(other.wait_eof(), "another client's connection stayed open after quit")
    check_event(other.wait_event("SHUTDOWN"), "SHUTDOWN",
                {"guest": False, "reason": "host-qmp-quit"})
    try:
        status = srv.proc.wait(5)
    except subprocess.TimeoutExpired:
        raise Failure("the server still runs 5 s after quit") from None
    expect(status == 0, f"the server exited with {status} after quit")
    expect(not os.path.exists(srv.path), "the socket file is still there after quit")


# ---- ids ----

IDS = ["abc", "", "é€😀 \"quoted\" \\ /", 0, 7, -3, 2**62, 1.5, -0.25, 1e100, True, False,
       None, [], [1, "two", [3]], {}, {"a": {"b": [1, 2, {"c": None}]}}]


@case
def id_is_echoed(srv):
    """every kind of id comes back unchanged, on returns and on errors"""
    c = srv.client()
    for i, v in enumerate(IDS):
        check_error(c.execute("query-status", id=v), "CommandNotFound", id=v)
        check_error(c.execute("no-such-command", id=v), "CommandNotFound", id=v)
    c.negotiate()
    for v in IDS:
        resp = c.execute("query-name", id=v)
        expect("return" in resp, f"query-name with id {v!r}: {resp}")
        check_error(c.execute("no-such-command", id=v), "CommandNotFound", id=v)
        check_error(c.execute("stop", {"now": 1}, id=v), "GenericError", id=v)
        check_error(c.execute("stop", "not an object", id=v), "GenericError", id=v)
        c.send_raw(json.dumps({"id": v}).encode() + b"\r\n")
        check_error(c.read_response(), "GenericError", "execute", id=v)
        c.send_raw(json.dumps({"execute": "query-name", "id": v, "extra": 1}).encode() + b"\r\n")
        check_error(c.read_response(), "GenericError", "extra", id=v)


@case
def no_id_no_id(srv):
    """a request without an id gets a response without one"""
    c = srv.client(negotiate=True)
    resp = c.execute("query-status", id=OMIT)
    expect("return" in resp and "id" not in resp, f"{resp}")
    c.send_raw(b'{"execute": "no-such"}\r\n')
    check_error(c.read_response(), "CommandNotFound")


# ---- events ----

@case
def events_have_timestamps_in_order(srv):
    """events carry wall-clock seconds/microseconds, in order, without data unless QEMU has it"""
    c = srv.client(negotiate=True)
    for _ in range(5):
        c.command("stop")
        c.command("cont")
    c.command("system_reset")
    evs = [c.wait_event("RESET")]
    evs = list(c.events) + evs
    expect([e["event"] for e in evs] == ["STOP", "RESUME"] * 5 + ["RESET"],
           f"events {[e['event'] for e in evs]}")
    for e in evs:
        check_event(e, e["event"], e.get("data"))
    stamps = [(e["timestamp"]["seconds"], e["timestamp"]["microseconds"]) for e in evs]
    expect(stamps == sorted(stamps), f"timestamps go backwards: {stamps}")


@case
def events_only_after_negotiation(srv):
    """an event raised while a client negotiates is not sent to it; later ones are"""
    a = srv.client(negotiate=True)
    b = srv.client()
    a.command("stop")
    a.wait_event("STOP")
    b.negotiate()
    a.command("cont")
    check_event(b.wait_event("RESUME"), "RESUME")
    expect(b.event_names() == [], f"the negotiating client got {b.event_names()}")
    expect(all(b'"STOP"' not in x for x in b.lines), "STOP reached a client that was negotiating")


# ---- several clients ----

@case
def two_clients(srv):
    """two clients interleave requests, each gets its own replies, both get events"""
    a = srv.client(negotiate=True)
    b = srv.client(negotiate=True)
    a.send_raw(b'{"execute": "query-name", ')
    b.send_raw(b'{"execute": "query-uuid", "id": "b1"}\r\n')
    rb = b.read_response()
    expect(rb == {"return": {"UUID": FAKE_UUID}, "id": "b1"}, f"b's reply {rb}")
    a.send_raw(b'"id": "a1"}\r\n')
    ra = a.read_response()
    expect(ra == {"return": {"name": FAKE_NAME}, "id": "a1"}, f"a's reply {ra}")
    b.command("stop")
    check_event(a.wait_event("STOP"), "STOP")
    check_event(b.wait_event("STOP"), "STOP")
    a.command("cont")
    a.close()
    check_event(b.wait_event("RESUME"), "RESUME")
    expect(status_of(b) == "running", "b stopped working after a left")
    expect_session_works(srv.client(negotiate=True), "a client left")


@case
def client_leaves_mid_message(srv):
    """a client that leaves mid-message, or without reading its replies, harms no one"""
    b = srv.client(negotiate=True)
    a = srv.client(negotiate=True)
    a.send_raw(b'{"execute": "stop", "argum')
    a.close()
    c = srv.client(negotiate=True)
    c.send_raw(b'{"execute": "query-commands"}\r\n' * 2000)
    c.close()
    expect(status_of(b) == "running", "the half-sent stop ran")
    expect(srv.client(negotiate=True).command("query-name") == {"name": FAKE_NAME},
           "a new client is not served")


# ---- bad input ----

def answer_for(c, id):
    """Reads responses up to the one with this id; each before it must be
    a GenericError without an id (the replies to garbage). Returns it and
    the number of errors before it."""
    errors = 0
    while True:
        resp = c.read_response()
        if "id" in resp and resp["id"] == id:
            return resp, errors
        check_error(resp, "GenericError")
        errors += 1


def expect_session_works(c, what):
    resp = c.execute("query-name", id=f"after {what}")
    expect(resp.get("return") == {"name": FAKE_NAME}, f"after {what}: {resp}")


@case
def invalid_json(srv):
    """invalid JSON gets a GenericError and the session goes on"""
    c = srv.client(negotiate=True)
    for bad in [b'{"execute": }', b'{"execute": "query-name",}', b"{'execute': 'query-name'}",
                b'{"execute" "query-name"}', b'nul', b'}', b'{"execute": "query-name"]',
                b'{"execute": tru}', b'{"execute": "query-name", "id": 01}']:
        c.send_raw(bad + b"\r\n")
        resp = c.read_response()
        check_error(resp, "GenericError")
        expect_session_works(c, bad.decode())


@case
def non_objects(srv):
    """a JSON value that is not an object: GenericError 'must be a JSON object'"""
    c = srv.client(negotiate=True)
    for v in [b"[1, 2]", b'"query-status"', b"123", b"-1.5e3", b"true", b"null", b"[]"]:
        c.send_raw(v + b"\r\n")
        check_error(c.read_response(), "GenericError", "object")
    expect_session_works(c, "non-objects")


@case
def bad_members(srv):
    """unknown members, a missing or non-string execute, non-object arguments"""
    c = srv.client(negotiate=True)
    for req, pattern in [({"execute": "query-status", "foo": 1, "id": 1}, "foo"),
                         ({"execute": "query-status", "exec-oob": "x", "id": 2}, "exec-oob"),
                         ({"arguments": {}, "id": 3}, "execute"),
                         ({"execute": 1, "id": 4}, "execute"),
                         ({"execute": None, "id": 5}, "execute"),
                         ({"execute": ["stop"], "id": 6}, "execute"),
                         ({"execute": "stop", "arguments": [], "id": 7}, "arguments"),
                         ({"execute": "stop", "arguments": None, "id": 8}, "arguments")]:
        c.send_raw(json.dumps(req).encode() + b"\r\n")
        check_error(c.read_response(), "GenericError", pattern, id=req["id"])
    expect(status_of(c) == "running", "a refused stop ran")


@case
def bad_arguments_have_no_effect(srv):
    """unknown arguments and wrong types are refused before the command runs"""
    c = srv.client(negotiate=True)
    for name, args in [("stop", {"force": True}), ("cont", {"x": 1}),
                       ("system_reset", {"hard": True}), ("system_powerdown", {"a": None}),
                       ("quit", {"now": True}), ("query-status", {"verbose": True})]:
        check_error(c.execute(name, args, id=name), "GenericError", "unexpected", id=name)
    expect(c.command("query-status", {}) == {"running": True, "singlestep": False,
                                             "status": "running"},
           "query-status with empty arguments")
    c.command("cont")  # a barrier: events come in order
    c.command("system_powerdown")
    c.wait_event("POWERDOWN")
    expect(c.event_names() == [], f"refused commands emitted {c.event_names()}")
    expect(srv.alive(), "a refused quit ended the server")


@case
def nul_in_strings(srv):
    r"""\u0000 in a command or member name does not pass for the name before it"""
    c = srv.client(negotiate=True)
    c.send_raw(b'{"execute": "query-status\\u0000junk", "id": 1}\r\n')
    resp = c.read_response()
    expect("error" in resp, f"query-status\\u0000junk was executed: {resp}")
    c.send_raw(b'{"execute": "stop", "arguments": {}, "id\\u0000": 1}\r\n')
    expect("error" in c.read_response(), "a member 'id\\u0000' was taken for 'id'")
    c.send_raw(b'{"execute": "query-name", "id": "a\\u0000b"}\r\n')
    resp = c.read_response()
    expect("error" in resp or resp.get("id") == "a\u0000b", f"the id lost its NUL: {resp}")
    c.send_raw(b'{"execute": "stop\\u0000", "id": 2}\r\n', chunk=1)
    expect("error" in c.read_response(), "stop\\u0000 sent in pieces was executed")
    expect(status_of(c) == "running", "stop ran")
    c.send_raw(b'{"execute": "query-name", "id": "\\\\u0000 \\u0001"}\r\n')
    resp = c.read_response()
    expect(resp.get("id") == "\\u0000 \u0001", f"an escaped backslash before u0000: {resp}")
    expect_session_works(c, "NULs")


@case
def invalid_utf8(srv):
    """bytes that are not UTF-8 in a string are refused, never echoed"""
    c = srv.client(negotiate=True)
    for bad in [b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]:
        c.send_raw(b'{"execute": "query-name", "id": "x' + bad + b'"}\r\n')
        check_error(c.read_response(), "GenericError")
    expect_session_works(c, "bad UTF-8")
    c.send_raw('{"execute": "query-name", "id": "é€😀"}\r\n'.encode())
    expect(c.read_response().get("id") == "é€😀", "a UTF-8 id did not come back")


@case
def binary_garbage(srv):
    """binary garbage gets errors; a good command on the next line is answered"""
    c = srv.client(negotiate=True)
    rnd = random.Random(5)
    for round_ in range(20):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
        junk = junk.replace(b"\n", b"")
        c.send_raw(junk + b"\r\n")
        c.send_raw(json.dumps({"execute": "query-name", "id": round_}).encode() + b"\r\n")
        resp, errors = answer_for(c, round_)
        expect(resp.get("return") == {"name": FAKE_NAME}, f"round {round_}: {resp}")
        expect(errors >= 1, f"garbage {junk[:40]!r}... got no error reply")
    c.send_raw(bytes(range(256)) * 4 + b"\r\n")
    c.send_raw(b'{"execute": "query-name", "id": "end"}\r\n')
    resp, errors = answer_for(c, "end")
    expect(errors >= 1, "all 256 byte values got no error reply")
    expect(resp.get("return") == {"name": FAKE_NAME}, f"after all 256 byte values: {resp}")


@case
def split_into_pieces(srv):
    """a message sent one byte at a time, split inside UTF-8 and escapes, is one message"""
    c = srv.client(negotiate=True)
    msg = '{"execute": "query-name", "id": "é€😀 \\u00e9 \\ud83d\\ude00 \\"x\\""}\r\n'.encode()
    c.send_raw(msg, chunk=1, pause=0.0005)
    resp = c.read_response()
    expect(resp == {"return": {"name": FAKE_NAME}, "id": 'é€😀 é 😀 "x"'}, f"{resp}")
    for size in (2, 3, 7, 13):
        c.send_raw(msg, chunk=size, pause=0.0002)
        expect(c.read_response().get("return") == {"name": FAKE_NAME}, f"chunks of {size}")
    c.send_raw(b'{"execute": "query-name", "id": 99}')  # no line end at all
    expect(c.read_response().get("id") == 99, "a message without CRLF was not answered")
    c.send_raw(b'\n\r\n  \t \r\n{"execute": "query-name", "id": 100}\n')
    expect(c.read_response().get("id") == 100, "blank lines or LF alone confused the server")


def replies_to(c, data, chunk, last_id):
    """Every message the server sends for `data` (sent in pieces of
    `chunk` bytes, or whole), up to the reply carrying last_id."""
    c.send_raw(data, chunk=chunk, pause=0.001 if chunk else 0)
    out = []
    while True:
        msg = c.read_response()
        out.append(msg)
        if msg.get("id") == last_id:
            return out


@case
def split_does_not_matter(srv):
    """bad and good messages get the same replies whole or split at any byte"""
    c = srv.client(negotiate=True)
    data = (b'{"a" 1} {"execute": "query-name", "id": 1}\r\n'
            b'{"execute": "query-name", "id": 2} {"x": tru} {"execute": "query-uuid", "id": 3}\r\n'
            b'[1, 2\r\n, 3] nul\r\n{"execute": "no-such", "id": 4}\r\n'
            b'{"execute": "query-name", "id": "\\ud83d\\ude00 \xc3\xa9"}\r\n'
            b'{"id": {"a": [1, {"b": "}]"}]}, "execute": "query-kvm"}\r\n'
            b'{"execute": "query-name", "id": "last"}\r\n')
    whole = replies_to(c, data, None, "last")
    expect(len(whole) >= 8, f"only {len(whole)} replies: {whole}")
    expect([m["id"] for m in whole if "id" in m] ==
           [1, 2, 3, 4, "😀 é", {"a": [1, {"b": "}]"}]}, "last"],
           f"the replies' ids: {[m.get('id') for m in whole]}")
    for chunk in (1, 2, 3, 5, 8, 13):
        split = replies_to(c, data, chunk, "last")
        expect(split == whole, f"in pieces of {chunk}: {split}\nwhole: {whole}")


@case
def many_in_one_send(srv):
    """two hundred requests in one send: two hundred replies, in order"""
    c = srv.client(negotiate=True)
    names = ["query-name", "query-uuid", "query-status", "query-kvm", "no-such"]
    buf = b"".join(json.dumps({"execute": names[i % len(names)], "id": i}).encode() +
                   (b"\r\n" if i % 3 else b"")
                   for i in range(200))
    c.send_raw(buf + b"\r\n")
    for i in range(200):
        resp = c.read_response()
        expect(resp.get("id") == i, f"reply {i} has id {resp.get('id')!r}")
        expect(("error" in resp) == (names[i % len(names)] == "no-such"), f"reply {i}: {resp}")


@case
def deep_nesting(srv):
    """deeply nested arguments are refused with an error, not a disconnect"""
    c = srv.client(negotiate=True)
    deep = "[" * 2000 + "]" * 2000
    c.send_raw(('{"execute": "query-name", "id": ' + deep + '}\r\n').encode())
    check_error(c.read_response(), "GenericError")
    expect_session_works(c, "deep nesting")


def padded_request(total):
    """A query-name request exactly `total` bytes long (CRLF not counted)."""
    head, tail = b'{"execute": "query-name", "id": "', b'"}'
    return head + b"x" * (total - len(head) - len(tail)) + tail


@case
def message_at_the_limit(srv):
    """a message of exactly 1 MiB is answered, its id whole"""
    c = srv.client(negotiate=True, timeout=20)
    req = padded_request(MAX_MESSAGE)
    c.send_raw(req + b"\r\n")
    resp = c.read_response()
    expect(resp.get("return") == {"name": FAKE_NAME}, f"{str(resp)[:200]}")
    expect(resp["id"] == json.loads(req)["id"],
           f"the id came back with {len(resp['id'])} bytes, not {len(json.loads(req)['id'])}")


@case
def oversized_message(srv):
    """a message past 1 MiB: an error, then the connection closes; others carry on"""
    other = srv.client(negotiate=True)
    c = srv.client(negotiate=True, timeout=20)
    req = padded_request(MAX_MESSAGE + 1) + b"\r\n" + b'{"execute": "stop"}\r\n'
    try:
        c.send_raw(req)
    except OSError:
        pass  # the server may close before it has read everything
    resp = c.read_response()
    check_error(resp, "GenericError", "too long|limit|size")
    expect(c.wait_eof(), "the connection stayed open after an oversized message")
    expect(c.trailing == [], f"replies after the error: {c.trailing}")
    expect(status_of(other) == "running", "the stop after the oversized message ran")
    expect_session_works(other, "another client's oversized message")
    big = srv.client(negotiate=True, timeout=20)
    try:
        big.send_raw(b'{"execute": "query-name", "id": [' + b"1," * MAX_MESSAGE + b"1]}\r\n")
    except OSError:
        pass
    check_error(big.read_response(), "GenericError")
    expect(big.wait_eof(), "an oversized array did not end the connection")
    expect_session_works(srv.client(negotiate=True), "oversized messages")


# ---- the runner ----

def run(binary, selected):
    cases = [f for f in CASES if not selected or any(s in f.__name__ for s in selected)]
    print(f"1..{len(cases)}", flush=True)
    failed = 0
    for n, fn in enumerate(cases, 1):
        title = f"{fn.__name__}: {fn.__doc__.strip()}"
        notes = []
        t0 = time.monotonic()
        try:
            srv = Server(binary)
        except Failure as e:
            print(f"not ok {n} - {title}\n# {e}", flush=True)
            failed += 1
            continue
        try:
            fn(srv)
            if not srv.quit_expected and not srv.alive():
                raise Failure(f"the server died (status {srv.proc.returncode})")
        except (Failure, ProtocolError, CommandError, EOFError, TimeoutError, OSError) as e:
            notes.append(f"{type(e).__name__}: {e}")
            notes += traceback.format_exc().splitlines()[-6:-1]
        status = srv.stop()
        if status != 0 and not notes:
            notes.append(f"the server exited with status {status} on SIGTERM")
        if notes:
            err = srv.errors().strip()
            if err:
                notes.append("server stderr: " + err[-2000:])
        srv.cleanup()
        ok = not notes
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {n} - {title} ({time.monotonic() - t0:.2f} s)")
        for line in notes:
            for sub in str(line).splitlines():
                print(f"# {sub}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: test_qmp_wire.py QMP-FAKE-SERVER [NAME-SUBSTRING...]", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[1], sys.argv[2:]))
