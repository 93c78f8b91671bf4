"""Command-line tools built on the veridian package, each run as a module:

    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.demo       # two hosts, ping, UDP, a pcap
    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.linerate   # fraction of line rate per frame size
    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.tcpbench   # instructions per byte, Gb/s per core
    python -m veridian.tools.tap ...                                       # a Veridian host on a Linux TAP device

veridian.tools.iperf3 is the iperf3 server veridian.tools.tap runs. Importing
this package imports none of them.
"""
