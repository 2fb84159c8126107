"""Serve Charrette: `python wsgi.py`. `app` is the WSGI app for other servers.

gevent serves thousands of phones from one process (see README, "Why gevent");
its monkey-patching must happen before anything else is imported.
"""
import os

if (os.environ.get("ASYNC_MODE") or "gevent") == "gevent":
    from gevent import monkey

    monkey.patch_all()

from workshop import address, create_app, network, quiet_garbage_collector, startup_lock  # noqa: E402
from workshop.demo import seed_demo  # noqa: E402
from workshop.extensions import socketio  # noqa: E402

app = create_app()


def main() -> None:
    """Seed the demo on first run, print where to go, and serve."""
    cfg = app.config
    with app.app_context():
        with startup_lock():  # several processes starting together seed the demo once
            demo = seed_demo() if cfg["DEMO"] else None
        demo_code = demo.code if demo else None
        phones = network.banner(network.current(fresh=True))
    local = f"http://localhost:{cfg['PORT']}"
    lines = ["", "Charrette is running.",
             f"  Facilitator (this laptop): {local}/login"]
    if demo_code:
        lines.append(f"    demo login: {cfg['DEMO_EMAIL']} / {cfg['DEMO_PASSWORD']}"
                     f"  (demo workshop code {demo_code})")
    lines += [*phones, "  Stop with Ctrl+C.", ""]
    print("\n".join(lines), flush=True)
    quiet_garbage_collector()
    address.watch(app)
    socketio.run(app, host=cfg["HOST"], port=cfg["PORT"], log_output=False)


if __name__ == "__main__":
    main()
