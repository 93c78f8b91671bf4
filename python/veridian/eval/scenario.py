"""Scenario files: an experiment described once, in TOML (docs/evaluation.md).

    seed = 1
    [measure]
    max_ms = 200               # a run that has not finished by then fails
    [[host]]
    name = "a"
    address = "10.0.0.1/24"
    nic = { kind = "rtl", width = 512, queues = 4, tso = true }
    cpus = { cores = 4, ghz = 3.0 }
    [[link]]
    a = "a"
    b = "b"
    rate_gbps = 100
    [[workload]]
    kind = "tcp_bulk"
    from = "a"
    to = "b"
    bytes = 4_000_000

`load()` checks every key against the schema below, fills in defaults and
raises ScenarioError naming the file, line, key and what is wrong.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any


class ScenarioError(ValueError):
    """A scenario that cannot run: `where` is "file:line" (line 0 when the
    line is not known), `key` the dotted key."""

    def __init__(self, where: str, key: str, what: str):
        super().__init__(f"{where}: {key}: {what}" if key else f"{where}: {what}")
        self.where, self.key, self.what = where, key, what


# field: (type, default, check) -- a default of REQUIRED must be given.
REQUIRED = object()


class Sizes:
    """A size, a list of sizes used in turn, or a seeded distribution:
    {uniform = [lo, hi]} or {choice = [a, b, ...], weights = [...]}, drawn
    once per message/datagram from the scenario's seed and the workload's
    index (so a run repeats)."""
_POS = (lambda v: v > 0, "must be > 0")
_NONNEG = (lambda v: v >= 0, "must be >= 0")
_PROB = (lambda v: 0 <= v <= 1, "must be a probability in [0, 1]")

NIC = {
    "kind": (str, "soft", (lambda v: v in ("rtl", "soft"), "must be \"rtl\" or \"soft\"")),
    "width": (int, 512, (lambda v: v in (64, 128, 256, 512), "must be 64, 128, 256 or 512")),
    "queues": (int, 1, (lambda v: 1 <= v <= 16, "must be 1..16")),
    "mtu": (int, 1500, (lambda v: 68 <= v <= 9000, "must be 68..9000")),
    "tx_csum": (bool, True, None),
    "tso": (bool, True, None),
    "rx_csum": (bool, True, None),
    "irq_frames": (int, 64, (lambda v: 1 <= v <= 65535, "must be 1..65535")),
    "irq_delay_ns": (float, 4000.0, _NONNEG),
    "dma": (str, "gen4", (lambda v: v in ("gen3", "gen4"), "must be \"gen3\" (PCIe Gen3 x16) or \"gen4\" (Gen4 x16)")),
}
CPUS = {
    "cores": (int, 4, (lambda v: 1 <= v <= 1024, "must be 1..1024")),
    "ghz": (float, 3.0, _POS),
}
HOST = {
    "name": (str, REQUIRED, (lambda v: re.fullmatch(r"[A-Za-z][\w-]*", v) is not None, "must be a name")),
    "address": (str, REQUIRED, None),
    "nic": (dict, {}, NIC),
    "cpus": (dict, None, CPUS),  # absent: host work takes no time
}
SWITCH = {
    "name": (str, REQUIRED, (lambda v: re.fullmatch(r"[A-Za-z][\w-]*", v) is not None, "must be a name")),
    "ports": (int, 8, (lambda v: 2 <= v <= 256, "must be 2..256")),
    "latency_ns": (float, 0.0, _NONNEG),
}
FAULTS = {
    "loss": (float, 0.0, _PROB),
    "duplicate": (float, 0.0, _PROB),
    "reorder": (float, 0.0, _PROB),
    "corrupt": (float, 0.0, _PROB),
    "jitter_ns": (float, 0.0, _NONNEG),
    "cap_gbps": (float, 0.0, _NONNEG),
}
LINK = {
    "a": (str, REQUIRED, None),  # a host or a switch
    "b": (str, REQUIRED, None),
    "rate_gbps": (float, 100.0, _POS),
    "latency_ns": (float, 500.0, _NONNEG),
    "faults": (dict, None, FAULTS),
}
WORKLOAD = {
    "kind": (str, REQUIRED, (lambda v: v in ("tcp_bulk", "tcp_rr", "udp", "ping"),
                             "must be tcp_bulk, tcp_rr, udp or ping")),
    "from": (str, REQUIRED, None),
    "to": (str, REQUIRED, None),
    "flows": (int, 1, (lambda v: 1 <= v <= 256, "must be 1..256")),   # tcp_bulk
    "bytes": (int, 4_000_000, _POS),                                   # tcp_bulk, per flow
    "buffer": (int, 0, _NONNEG),      # tcp socket buffers (0: what the receiver's RX buffers hold, shared)
    # tcp_rr message, udp datagram, ping payload: one size, or a list used in turn (a mix)
    "size": (Sizes, [64], (lambda v: all(1 <= x <= 65507 for x in v), "must be sizes in 1..65507")),
    "direction": (str, "forward", (lambda v: v in ("forward", "reverse", "both"),
                                   "must be forward, reverse or both")),  # tcp_bulk: from->to, to->from, or both at once
    "count": (int, 200, _POS),        # tcp_rr transactions, udp datagrams, pings
    "interval_us": (float, 0.0, _NONNEG),  # udp/ping: between sends (0: back to back / as replies come)
    "port": (int, 5001, (lambda v: 1 <= v <= 65535, "must be 1..65535")),
    "warmup_us": (float, 0.0, _NONNEG),  # measured from this long after the first send
    "duration_us": (float, 0.0, _NONNEG),  # tcp_rr, udp, ping: send for this long after warm-up (0: `count`)
}
MEASURE = {
    "max_ms": (float, 1000.0, _POS),
}
TOP = {
    "seed": (int, 1, _NONNEG),
    "description": (str, "", None),
    "measure": (dict, {}, MEASURE),
    "host": (list, REQUIRED, HOST),
    "switch": (list, [], SWITCH),
    "link": (list, REQUIRED, LINK),
    "workload": (list, REQUIRED, WORKLOAD),
}


@dataclass
class Scenario:
    data: dict           # the whole scenario, defaults filled in
    origin: str = "<scenario>"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()

    def host(self, name: str) -> dict:
        return next(h for h in self.data["host"] if h["name"] == name)


class _Lines:
    """Finds the line of a key, for messages: tomllib gives none."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def find(self, path: tuple) -> int:
        # The table header the key lives under, and which [[array]] entry.
        names, index = [], None
        for p in path[:-1]:
            if isinstance(p, int):
                index = p
            else:
                names.append(p)
        key = path[-1] if not isinstance(path[-1], int) else None
        want, seen, cur, cur_idx = ".".join(names), {}, "", -1
        for n, line in enumerate(self.lines, 1):
            s = line.strip()
            m = re.match(r"^\[\[\s*([\w.]+)\s*\]\]", s) or re.match(r"^\[\s*([\w.]+)\s*\]", s)
            if m:
                cur = m.group(1)
                if s.startswith("[["):
                    seen[cur] = seen.get(cur, -1) + 1
                    cur_idx = seen[cur]
                if key is None and cur == want and (index is None or cur_idx == index):
                    return n
                continue
            top = names[0] if names else ""
            in_table = cur == want or (cur == top and len(names) > 1)
            right_entry = index is None or seen.get(top, -1) == index
            if key and in_table and right_entry and re.match(rf"^{re.escape(str(key))}\s*=", s):
                return n
            if key and in_table and right_entry and len(names) > 1 and re.match(rf"^{names[-1]}\s*=.*\b{key}\b", s):
                return n  # an inline table: nic = {{ kind = ... }}
        return 0


def _check(obj: Any, schema: dict, path: tuple, where, lines: _Lines) -> dict:
    def err(p, what):
        raise ScenarioError(f"{where}:{lines.find(p)}", ".".join(str(x) for x in p), what)

    if not isinstance(obj, dict):
        err(path, "must be a table")
    out = {}
    for k in obj:
        if k not in schema:
            close = [s for s in schema if s.startswith(k[:3])]
            err(path + (k,), "unknown key" + (f" (did you mean {close[0]!r}?)" if close else
                                               f" (known: {', '.join(schema)})"))
    for k, (typ, default, check) in schema.items():
        p = path + (k,)
        if k not in obj:
            if default is REQUIRED:
                err(p, "missing")
            if typ is dict and isinstance(check, dict) and default is not None:
                out[k] = _check({}, check, p, where, lines)
            else:
                out[k] = copy.deepcopy(default)
            continue
        v = obj[k]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if typ is list:
            if not isinstance(v, list) or (not v and default is REQUIRED):
                err(p, "must be one or more [[" + k + "]] tables")
            out[k] = [_check(e, check, p + (i,), where, lines) for i, e in enumerate(v)]
            continue
        if typ is dict:
            out[k] = _check(v, check, p, where, lines)
            continue
        if typ is Sizes:
            v = [v] if isinstance(v, int) and not isinstance(v, bool) else v
            if isinstance(v, dict):
                out[k] = _check_distribution(v, p, err)
                continue
            if not isinstance(v, list) or not v or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                err(p, f"must be an int or a list of ints, not {v!r}")
            if not check[0](v):
                err(p, f"{v!r} {check[1]}")
            out[k] = v
            continue
        if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
            err(p, f"must be {typ.__name__}, not {type(v).__name__} {v!r}")
        if check and not check[0](v):
            err(p, f"{v!r} {check[1]}")
        out[k] = v
    return out


def _check_distribution(v: dict, p: tuple, err) -> dict:
    ints = lambda x: isinstance(x, list) and x and all(isinstance(i, int) and not isinstance(i, bool) for i in x)
    if set(v) == {"uniform"} and ints(v["uniform"]) and len(v["uniform"]) == 2 and 1 <= v["uniform"][0] <= v["uniform"][1] <= 65507:
        return dict(v)
    if "choice" in v and set(v) <= {"choice", "weights"} and ints(v["choice"]) and all(1 <= x <= 65507 for x in v["choice"]):
        w = v.get("weights")
        if w is None or (isinstance(w, list) and len(w) == len(v["choice"]) and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in w) and sum(w) > 0):
            return dict(v)
    err(p, f"{v!r} is not a distribution: {{uniform = [lo, hi]}} with 1 <= lo <= hi <= 65507, or "
           "{choice = [sizes], weights = [one per size]}")


def _draw_sizes(d: dict) -> None:
    """Distributions become the list of sizes they draw (seeded)."""
    import random
    for i, w in enumerate(d["workload"]):
        dist = w["size"]
        if not isinstance(dist, dict):
            continue
        rng = random.Random(f"{d['seed']}/workload/{i}")
        if "uniform" in dist:
            lo, hi = dist["uniform"]
            w["size"] = [rng.randint(lo, hi) for _ in range(w["count"])]
        else:
            w["size"] = rng.choices(dist["choice"], weights=dist.get("weights"), k=w["count"])
        w["size_distribution"] = dist


def _check_references(d: dict, where: str, lines: _Lines) -> None:
    names = [h["name"] for h in d["host"]]
    ends = names + [w["name"] for w in d["switch"]]
    for i, n in enumerate(ends):
        if ends.index(n) != i:
            table, j = ("host", i) if i < len(names) else ("switch", i - len(names))
            raise ScenarioError(f"{where}:{lines.find((table, j, 'name'))}", f"{table}.{j}.name", f"{n!r} is used twice")
    for table, keys, known, what, whats in (("link", ("a", "b"), ends, "host or switch", "hosts or switches"),
                                            ("workload", ("from", "to"), names, "host", "hosts")):
        for i, e in enumerate(d[table]):
            for k in keys:
                if e[k] not in known:
                    raise ScenarioError(f"{where}:{lines.find((table, i, k))}", f"{table}.{i}.{k}",
                                        f"no {what} named {e[k]!r} ({whats}: {', '.join(known)})")
    for i, w in enumerate(d["workload"]):
        if w["from"] == w["to"]:
            raise ScenarioError(f"{where}:{lines.find(('workload', i, 'to'))}", f"workload.{i}.to",
                                "must be another host than `from`")


def parse(text: str, origin: str = "<scenario>", overrides: dict | None = None) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ScenarioError(f"{origin}:{m.group(1) if m else 0}", "", f"not TOML: {e}") from None
    for k, v in (overrides or {}).items():
        set_path(raw, k, v)
    lines = _Lines(text)
    d = _check(raw, TOP, (), origin, lines)
    _check_references(d, origin, lines)
    _draw_sizes(d)
    return Scenario(d, origin)


def load(path: str, overrides: dict | None = None) -> Scenario:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ScenarioError(str(path), "", f"cannot read: {e.strerror}") from None
    return parse(text, str(path), overrides)


def set_path(d: dict, dotted: str, value) -> None:
    """Sets d[a][b]... for "a.b.c"; a list index may be a number or `*`
    (every entry): "host.*.nic.tso". Missing tables are made."""
    parts = dotted.split(".")
    if not all(parts):
        raise ScenarioError("--set", dotted, "is not a dotted key (e.g. host.*.nic.tso)")

    def walk(node, i):
        key = parts[i]
        last = i == len(parts) - 1
        if isinstance(node, list):
            if key == "*":
                targets = range(len(node))
            elif key.isdigit() and int(key) < len(node):
                targets = [int(key)]
            else:
                raise ScenarioError("--set", dotted, f"{key!r} is not an index of a list of {len(node)}")
            for t in targets:
                if last:
                    node[t] = value
                else:
                    walk(node[t], i + 1)
            return
        if not isinstance(node, dict):
            raise ScenarioError("--set", dotted, f"{'.'.join(parts[:i])} is not a table")
        if last:
            node[key] = value
        else:
            walk(node.setdefault(key, {}), i + 1)

    walk(d, 0)


def parse_value(text: str):
    """A --set value: TOML (true, 64, 1.5, "x") or, failing that, a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
