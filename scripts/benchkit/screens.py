"""Record the facilitator's screens: the console, and the projector in a process of its own."""
from __future__ import annotations

import asyncio
import contextlib
import time

from .load import new_http, new_socket


class Screen:
    """The facilitator's console or projector socket; keeps the views' timings, not their HTML."""

    def __init__(self, role: str, http):
        self.role = role
        self.sio = new_socket(http, reconnect=True)  # the real console and projector reconnect
        self.sio.on("view", self.on_view)
        self.sio.on("disconnect", self.on_disconnect)
        self.drops: list[str] = []
        self.closing = False
        # (recv, rendered_at, phase, progress, HTML chars)
        self.views: list[tuple[float, float, str, dict, int]] = []
        self.last_html = ""
        self.changed = asyncio.Event()

    def on_view(self, data):
        """Keep a view's arrival, render time, phase, progress and size; and its HTML if it has any."""
        now = time.perf_counter()
        self.views.append((now, data.get("rendered_at") or 0.0, data.get("phase"), data.get("progress") or {},
                           len(data.get("html") or "") + sum(map(len, (data.get("parts") or {}).values()))))
        if "html" in data:  # a numbers-only push keeps the view on screen
            self.last_html = data["html"]
        self.changed.set()

    def on_disconnect(self, *reason):
        """Note why the socket dropped, unless the run is closing it."""
        if not self.closing:
            self.drops.append(", ".join(map(str, reason)) or "no reason")

    async def connect(self, base, code, timeout):
        """Connect the socket in this screen's role."""
        await self.sio.connect(base, auth={"code": code, "role": self.role}, transports=["websocket"],
                               wait_timeout=timeout)

    async def call(self, event, data, timeout):
        """Send an event once connected (it may be reconnecting); return the ack, raise unless ok."""
        deadline = time.perf_counter() + timeout
        while not self.sio.connected and time.perf_counter() < deadline:  # reconnecting
            await asyncio.sleep(0.1)
        reply = await self.sio.call(event, data, timeout=timeout)
        if not reply or not reply.get("ok"):
            raise RuntimeError(f"{self.role} {event}: {reply}")
        return reply

    @property
    def revealed(self) -> bool:
        """Whether the view on screen draws the results' bars."""
        return 'class="bar-label"' in self.last_html

    async def close(self):
        """Disconnect."""
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sio.disconnect(), 5)


def screen_child(conn, role: str, base: str, code: str, cookies: dict, timeout: float) -> None:
    """Run a screen in a process of its own (a projector is its own device).

    It sends the parent each view's timings as it arrives, and its drops when told to close.
    """
    from yarl import URL

    async def main():
        """Connect, forward every view until told to close, then report the drops."""
        http = new_http()
        http.cookie_jar.update_cookies(cookies, URL(base))
        screen = Screen(role, http)
        on_view = screen.on_view

        def record(data):
            """Keep the view and send its timings to the parent."""
            on_view(data)
            conn.send(("view", screen.views[-1], screen.revealed))
        screen.sio.on("view", record)
        await screen.connect(base, code, timeout)
        conn.send(("connected",))
        told = asyncio.Event()
        asyncio.get_running_loop().add_reader(conn.fileno(), told.set)
        await told.wait()
        await screen.close()
        await http.close()
        conn.send(("closed", screen.drops))

    try:
        asyncio.run(main())
    except Exception as e:  # noqa: BLE001 - the parent reports it
        conn.send(("error", f"{type(e).__name__}: {e}"))


class RemoteScreen:
    """The parent's side of a `screen_child`: the same timings as a Screen, kept in the parent."""

    def __init__(self, role: str, http):
        self.role, self.http = role, http
        self.views: list[tuple[float, float, str, dict, int]] = []
        self.revealed = False
        self.drops: list[str] = []
        self.changed = asyncio.Event()
        self.proc = self.conn = None
        self.ready: asyncio.Future | None = None

    def _receive(self):
        """Read whatever the child has sent: views, its start, its drops, or its end."""
        while True:
            try:
                if not self.conn.poll():
                    return
                msg = self.conn.recv()
            except (EOFError, OSError):  # the child is gone
                asyncio.get_running_loop().remove_reader(self.conn.fileno())
                if not self.ready.done():
                    self.ready.set_exception(RuntimeError(f"{self.role}: its process exited"))
                return
            if msg[0] == "view":
                self.views.append(msg[1])
                self.revealed = msg[2]
                self.changed.set()
            elif not self.ready.done():
                if msg[0] == "connected":
                    self.ready.set_result(None)
                else:
                    self.ready.set_exception(RuntimeError(f"{self.role}: {msg[1]}"))
            elif msg[0] == "closed":
                self.drops = msg[1]

    async def connect(self, base, code, timeout):
        """Start the child with the facilitator's cookies; wait until its socket is connected."""
        import multiprocessing

        from yarl import URL

        cookies = {k: m.value for k, m in self.http.cookie_jar.filter_cookies(URL(base)).items()}
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=screen_child, args=(child, self.role, base, code, cookies, timeout),
                                daemon=True)
        self.proc.start()
        child.close()
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()
        loop.add_reader(self.conn.fileno(), self._receive)
        await asyncio.wait_for(self.ready, timeout + 30)

    async def close(self):
        """Tell the child to close, collect its drops, and make sure it ends."""
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            self.conn.send("close")
            await asyncio.get_running_loop().run_in_executor(None, self.proc.join, 10)
            self._receive()
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc = None
