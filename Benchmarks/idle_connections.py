#!/usr/bin/env python3
"""Memory per idle keep-alive connection: opens N connections to a running gateway, each completes one request
(a 401 from a route that requires a token, so no upstream is involved) and stays open; prints the RSS growth.
usage: idle_connections.py PID N [PORT]   (N is bounded by `ulimit -n` of both processes)"""
import socket, sys, time


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS")


def main() -> None:
    pid, n = int(sys.argv[1]), int(sys.argv[2])
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 18090
    request = b"GET /x HTTP/1.1\r\nHost: bench\r\n\r\n"
    socks = []
    for _ in range(200):  # warm-up: one-time allocations happen before the baseline
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(request); s.recv(4096); socks.append(s)
    time.sleep(0.5)
    before = rss_kib(pid)
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(request); socks.append(s)
    for s in socks[200:]:
        if b" 401 " not in s.recv(4096):
            raise SystemExit("unexpected answer")
    time.sleep(1)
    after = rss_kib(pid)
    print(f"{n} idle keep-alive connections: RSS {before} KiB -> {after} KiB = {(after - before) * 1024 / n:.0f} bytes each")


if __name__ == "__main__":
    main()
