"""Serve the bare reference workshop: Flask-SocketIO on gevent, state in memory (the benchmark's floor).

    python scripts/bare_server.py --port 5001      # or PORT=5001, as wsgi.py reads it

It speaks the app's protocol to scripts/bench.py (`--bare`): the same HTTP steps (login, new
workshop, GET/POST /j/CODE with a session cookie, the POST answered with the phone page), the
same socket auth and events (a phone page drawn at a version: no first sync), the
same coalesced projector/console push of the numbers and the same garbage-collector
settings; no database, no templates, no validation beyond the shape, and no event that
walks every vote. GET /bare/votes lists every stored vote for the benchmark's check.
"""
from gevent import monkey

monkey.patch_all()  # a gevent server like the app: patch before anything else is imported

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

from flask import Flask, redirect, request, session  # noqa: E402
from flask_socketio import ConnectionRefusedError, SocketIO, join_room  # noqa: E402


def serve_bare(port: int) -> None:
    """Serve the bare workshop on 127.0.0.1:port until stopped."""
    app = Flask("bare")
    app.secret_key = "bare-secret"
    sio = SocketIO(app, async_mode="gevent", ping_interval=20, ping_timeout=25,
                   max_http_buffer_size=64 * 1024, cors_allowed_origins=None)
    code, stage_id = "BARE22", 1
    st = {"phase": "pending", "revealed": False, "items": {}, "next_item": 1, "participants": {},
          "votes": {}, "dirty": False}
    # Kept as votes come in, so no event walks every vote: the floor, not a second app.
    by_token: dict[str, dict[int, int]] = defaultdict(dict)  # a phone's dots per idea
    totals: Counter = Counter()                                # dots per idea
    clients: dict[str, tuple[str, str | None]] = {}
    form = ('<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" '
            'value="bare-csrf"></form>')
    # Drawn from the one "version" there is, so a phone needs no first sync (as with the app's pages).
    PHONE_PAGE = '<body data-role="phone" data-version="0">phone page</body>'  # noqa: N806

    def progress():
        """Count the phones with a dot and the dots cast."""
        return {"voters": sum(1 for dots in by_token.values() if any(dots.values())),
                "dots": sum(totals.values())}

    def view(audience):
        """Build an audience's whole view, the bars drawn once revealed (always on the console)."""
        html = f'<div data-stage_id="{stage_id}" data-phase="{st["phase"]}" data-audience="{audience}">'
        if st["revealed"] and audience != "console" or (audience == "console" and st["phase"] != "pending"):
            html += "".join(f'<li><div class="bar-label">{st["items"][i]}</div>'
                            f'<span class="score">{n}</span></li>'
                            for i, n in totals.most_common())
        html += "</div>"
        return {"html": html, "participants": len(st["participants"]), "rendered_at": time.time(),
                "progress": progress() if st["phase"] in ("vote", "results") else {}, "timer": None,
                "open": True, "stage_id": stage_id, "phase": st["phase"]}

    def push(audiences=("projector", "console", "phone")):
        """Send each audience its whole view."""
        for audience in audiences:
            sio.emit("view", view(audience), to=audience)

    def numbers():
        """Build what the app's coalesced push sends while votes come in: no HTML."""
        return {"numbers": True, "participants": len(st["participants"]), "rendered_at": time.time(),
                "progress": progress() if st["phase"] in ("vote", "results") else {},
                "stage_id": stage_id, "phase": st["phase"]}

    def coalescer():
        """Push the numbers to both screens at most every 0.1 s, when something changed."""
        while True:
            sio.sleep(0.1)
            if st["dirty"]:
                st["dirty"] = False
                for audience in ("projector", "console"):
                    sio.emit("view", numbers(), to=audience)

    @app.route("/")
    def index():
        """Answer that the server is up."""
        return "bare"

    @app.route("/login", methods=["GET", "POST"])
    def login():
        """Sign anyone in as the facilitator."""
        if request.method == "POST":
            session["facilitator"] = True
            return redirect("/workshops")
        return form

    @app.route("/workshops")
    def workshops():
        """Stand in for the facilitator's list."""
        return "workshops"

    @app.route("/workshops/new", methods=["GET", "POST"])
    def new():
        """Hand out the one workshop."""
        if request.method == "POST":
            return redirect(f"/w/{code}/console")
        return form

    @app.route("/w/<c>/console")
    def console(c):
        """Stand in for the console page."""
        return "console"

    @app.route("/j/<c>", methods=["GET", "POST"])
    def phone(c):
        """Join a phone: a token in its session, as the app does."""
        if request.method == "POST":
            token = (session.get("joined") or {}).get(c) or secrets.token_urlsafe(24)
            st["participants"][token] = request.form.get("group", "")
            session.permanent = True
            session["joined"] = {c: token}
            st["dirty"] = True
            return PHONE_PAGE  # the phone page itself, as the app answers a join (no redirect)
        return form if c not in (session.get("joined") or {}) else PHONE_PAGE

    @app.route("/bare/votes")
    def votes():
        """List every stored vote as [token, item id, dots] (the benchmark's check)."""
        return {"votes": [[tok, item_id, v] for (tok, item_id), v in st["votes"].items()]}

    @sio.on("connect")
    def connect(auth):
        """Admit a joined phone, or a signed-in console or projector, into its role's room."""
        role = (auth or {}).get("role")
        if role == "probe":  # scripts/bench.py's sockets alone (no HTTP join): the reference figure
            clients[request.sid] = (role, None)
            return
        token = (session.get("joined") or {}).get(code)
        if role == "phone" and token not in st["participants"]:
            raise ConnectionRefusedError("Join the workshop first.")
        if role in ("projector", "console") and not session.get("facilitator"):
            raise ConnectionRefusedError("Sign in.")
        clients[request.sid] = (role, token)
        join_room(role)

    @sio.on("disconnect")
    def disconnect(*_a):
        """Forget the socket."""
        clients.pop(request.sid, None)

    def mine(token):
        """Return a phone's own allocation, as the app's ack carries it."""
        dots = {i: v for i, v in by_token[token].items() if v > 0}
        return {"stage_id": stage_id, "dots": dots, "budget": 3, "left": 3 - sum(dots.values())}

    @sio.on("sync")
    def sync(_p=None):
        """Answer with the sender's view (and a phone's allocation)."""
        role, token = clients[request.sid]
        return {"ok": True, "view": view(role), "mine": mine(token) if token else {}}

    def add_item(p):
        """Store an idea; return the ack."""
        item_id = st["next_item"]
        st["next_item"] += 1
        st["items"][item_id] = p.get("title", "")
        return {"ok": True, "item": {"id": item_id, "title": p.get("title", "")}}

    @sio.on("idea:add")
    def idea(p):
        """Store a phone's idea; the coalesced push tells the screens."""
        st["dirty"] = True
        return add_item(p)

    @sio.on("item:add")
    def item(p):
        """Store the facilitator's idea and push every view."""
        reply = add_item(p)
        push()
        return reply

    @sio.on("stage:go")
    def go(p):
        """Move to a phase and push every view."""
        st["phase"], st["revealed"] = p["phase"], False
        push()
        return {"ok": True}

    @sio.on("results:reveal")
    def reveal(p):
        """Show or hide the results and push every view."""
        st["phase"], st["revealed"] = "results", bool(p.get("revealed"))
        push()
        return {"ok": True}

    @sio.on("vote")
    def vote(p):
        """Set a phone's dots on an idea; ack with the commit time `at`."""
        _role, token = clients[request.sid]
        if st["phase"] != "vote":
            return {"ok": False, "error": "Voting is closed."}
        item_id, dots = int(p["item_id"]), int(p["dots"])
        totals[item_id] += dots - by_token[token].get(item_id, 0)
        st["votes"][(token, item_id)] = by_token[token][item_id] = dots
        st["dirty"] = True
        return {"ok": True, "mine": mine(token), "at": time.time()}

    wsgi = app.wsgi_app

    def without_compression(environ, start_response):
        """Decline permessage-deflate, as the app does."""
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi(environ, start_response)

    app.wsgi_app = without_compression
    gc.collect()  # the app server's garbage-collector settings (workshop.quiet_garbage_collector)
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    sio.start_background_task(coalescer)
    sio.run(app, host="127.0.0.1", port=port, log_output=False)


def main(argv=None) -> None:
    """Read the port and serve."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5001)),
                    help="port on 127.0.0.1 (default: $PORT, else 5001)")
    serve_bare(ap.parse_args(argv).port)


if __name__ == "__main__":
    main()
