"""A TCP proxy in front of the test sshd that can stall its open connections:
they stay open but no byte passes any more, in either direction (a half-open
connection, a hung middlebox). Connections made after the stall pass normally."""
from __future__ import annotations

import select
import socket
import threading


class StallingProxy:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            stalled = threading.Event()
            self.pairs.append((client, upstream, stalled))
            threading.Thread(target=self._pump, args=(client, upstream, stalled),
                             daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket, stalled: threading.Event) -> None:
        peers = {a: b, b: a}
        while not self.closed.is_set():
            if stalled.is_set():  # hold both sockets open, move nothing
                self.closed.wait(0.2)
                continue
            try:
                ready, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in ready:
                    if stalled.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        a.close()
                        b.close()
                        return
                    peers[sock].sendall(data)
            except OSError:
                return

    def stall(self) -> int:
        """Stall every connection open now; returns how many."""
        for _, _, stalled in self.pairs:
            stalled.set()
        return len(self.pairs)

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for client, upstream, _ in self.pairs:
            client.close()
            upstream.close()
