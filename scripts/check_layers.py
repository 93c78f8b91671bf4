#!/usr/bin/env python3
"""Fails when a folder includes a header of a folder above it.

The layers, lowest first (docs/design.md, "Layers"):

    core       packets, buffer pool, NetDevice, time, bytes
    abi        the generated NIC ABI header (offload/abi/nic_abi.json)
    offload    reference models of the offloads (checksum, TSO, RSS)
    stack      the protocol stack and sockets
    rtl-model  the harness around the Verilated NIC
    host       simulation kernel, devices, driver, Asio adapter
    python     the pybind11 module

Each folder may include its own headers and those of the layers it lists in
ALLOWED. tests/, examples/ and benchmarks sit above everything and are not
checked. Usage: check_layers.py [REPO_ROOT] [--stamp FILE]
"""
import pathlib
import re
import sys

# Which header namespace ("veridian/<ns>/...", or "veridian/abi.hpp") belongs
# to which layer.
NAMESPACE_LAYER = {
    "core": "core",
    "abi.hpp": "abi",
    "offload": "offload",
    "stack": "stack",
    "rtl": "rtl-model",
    "dev": "host",
    "sim": "host",
    "net": "host",
}

# The layers each source folder may include, besides its own.
ALLOWED = {
    "core": set(),
    "offload": {"core", "abi"},
    "stack": {"core", "offload"},
    "rtl-model": {"core", "abi"},
    "host": {"core", "abi", "offload", "stack", "rtl-model"},
    "python": {"core", "abi", "offload", "stack", "rtl-model", "host"},
}

# Only the library sources; benchmarks and tools in a layer may use more.
SOURCE_DIRS = {
    "core": ["core"],
    "offload": ["offload/include", "offload/src"],
    "stack": ["stack"],
    "rtl-model": ["rtl-model/harness"],
    "host": ["host/include", "host/src"],
    "python": ["python/src"],
}

# Files held to a narrower rule than their layer: the driver reaches the NIC
# through vd::MmioPort only, so it must not see the RTL harness.
FILE_FORBIDDEN = {
    "host/include/veridian/dev/nic_driver.hpp": {"rtl-model"},
    "host/src/dev/nic_driver.cpp": {"rtl-model"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"veridian/([^/"]+)')
RELATIVE_UP = re.compile(r'^\s*#\s*include\s*"(\.\./[^"]*)"')


def violations(root: pathlib.Path):
    for layer, dirs in SOURCE_DIRS.items():
        ok = ALLOWED[layer] | {layer}
        for d in dirs:
            for f in sorted((root / d).rglob("*")):
                if f.suffix not in (".hpp", ".cpp", ".h"):
                    continue
                for lineno, line in enumerate(f.read_text().splitlines(), 1):
                    m = INCLUDE.match(line)
                    if m:
                        ns = m.group(1)
                        dep = NAMESPACE_LAYER.get(ns)
                        if dep is None:
                            yield f, lineno, f'unknown header namespace "veridian/{ns}"'
                        elif dep not in ok:
                            yield f, lineno, f"{layer} includes {dep} (a layer above it): {line.strip()}"
                        elif dep in FILE_FORBIDDEN.get(f.relative_to(root).as_posix(), ()):
                            yield f, lineno, f"this file must not include {dep}: {line.strip()}"
                    elif RELATIVE_UP.match(line):
                        yield f, lineno, f"relative include out of the folder: {line.strip()}"


def main(argv):
    stamp = None
    if "--stamp" in argv:
        i = argv.index("--stamp")
        stamp = argv[i + 1]
        del argv[i:i + 2]
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    bad = list(violations(root))
    for f, lineno, why in bad:
        print(f"{f.relative_to(root)}:{lineno}: {why}", file=sys.stderr)
    if bad:
        print(f"check_layers: {len(bad)} include(s) break the layering", file=sys.stderr)
        return 1
    if stamp:
        pathlib.Path(stamp).write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
