#!/usr/bin/env python3
"""pg-proxy.py PORTFILE HOST PORT - a TCP proxy the tests can freeze.

Listens on 127.0.0.1 at a free port (written to PORTFILE once it listens)
and forwards every connection to HOST:PORT, both ways. SIGUSR1 freezes it:
from then on nothing is accepted, read or forwarded, as in a network
partition (the kernel still takes what fits in its buffers, so the client
sees no error, only silence). SIGUSR2 thaws it: what waited flows on.
SIGTERM ends it.
"""
import selectors
import signal
import socket
import sys
import time

frozen = False


def on_freeze(signum, frame):
    global frozen
    frozen = True


def on_thaw(signum, frame):
    global frozen
    frozen = False


def close_pair(sel, peers, s):
    """Close s and its peer."""
    for x in (s, peers.pop(s, None)):
        if x is None:
            continue
        peers.pop(x, None)
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        x.close()


def forward(sel, peers, s):
    """Move what s has to its peer; close both at its end."""
    try:
        data = s.recv(65536)
    except OSError:
        data = b""
    if not data:
        close_pair(sel, peers, s)
        return
    try:
        peers[s].sendall(data)
    except (OSError, KeyError):
        close_pair(sel, peers, s)


def accept(sel, peers, listener, target):
    """Take a connection and open its way to the target."""
    c, _ = listener.accept()
    try:
        t = socket.create_connection(target)
    except OSError:
        c.close()
        return
    peers[c], peers[t] = t, c
    sel.register(c, selectors.EVENT_READ)
    sel.register(t, selectors.EVENT_READ)


def main():
    portfile, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGUSR1, on_freeze)
    signal.signal(signal.SIGUSR2, on_thaw)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    peers = {}
    while True:
        if frozen:
            time.sleep(0.02)
            continue
        for key, _ in sel.select(timeout=0.05):
            if frozen:
                break
            if key.fileobj is listener:
                accept(sel, peers, listener, (host, port))
            elif key.fileobj in peers:
                forward(sel, peers, key.fileobj)


if __name__ == "__main__":
    main()
