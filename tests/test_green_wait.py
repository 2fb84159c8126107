"""psycopg's waits under gevent (workshop/green_wait.py), on the real PostgreSQL, in a process gevent
has monkey-patched as the server's is (wsgi.py): the waits let other greenlets run, a row lock held
by one greenlet is waited for by another of the same process, a pipeline answers as before, and a
connection the server drops raises instead of hanging."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import POSTGRES_ADMIN_URL
from tests.support import ROOT

CHILD = textwrap.dedent("""
    import json, sys, time
    from gevent import monkey
    monkey.patch_all()
    import gevent, psycopg
    from psycopg import waiting
    from workshop import green_wait

    url, case = sys.argv[1], sys.argv[2]
    assert green_wait.install() and waiting.wait is green_wait.wait
    out = {}

    def ticker(stop):  # counts how often another greenlet got to run
        while not stop:
            out["ticks"] = out.get("ticks", 0) + 1
            gevent.sleep(0.01)

    if case == "cooperative":
        stop = []
        ticks = gevent.spawn(ticker, stop)
        with psycopg.connect(url) as conn:
            out["slept"] = conn.execute("select pg_sleep(0.5), 42").fetchone()[1]
        stop.append(1)
        ticks.join()
    elif case == "row lock":  # two greenlets of one process, one row: the second waits for the first
        setup = psycopg.connect(url, autocommit=True)
        setup.execute("create table if not exists green_wait_lock (id int primary key, n int)")
        setup.execute("insert into green_wait_lock values (1, 0) on conflict (id) do update set n = 0")
        order = []

        def add(name, hold):
            with psycopg.connect(url) as conn:
                conn.execute("select n from green_wait_lock where id = 1 for update")
                order.append(name + " locked")
                gevent.sleep(hold)
                conn.execute("update green_wait_lock set n = n + 1 where id = 1")
                order.append(name + " done")
        first = gevent.spawn(add, "first", 0.3)
        gevent.sleep(0.1)
        second = gevent.spawn(add, "second", 0)
        gevent.joinall([first, second], timeout=10, raise_error=True)
        out["order"] = order
        out["n"] = setup.execute("select n from green_wait_lock where id = 1").fetchone()[0]
        setup.execute("drop table green_wait_lock")
    elif case == "pipeline":
        with psycopg.connect(url) as conn, conn.pipeline():
            cursors = [conn.execute("select %s::int * 2", (k,)) for k in range(50)]
        out["doubled"] = [c.fetchone()[0] for c in cursors]
    elif case == "dropped":
        victim = psycopg.connect(url)
        pid = victim.info.backend_pid
        killer = gevent.spawn_later(0.3, lambda: psycopg.connect(url, autocommit=True).execute(
            "select pg_terminate_backend(%s)", (pid,)))
        started = time.monotonic()
        try:
            victim.execute("select pg_sleep(30)")
        except psycopg.OperationalError:  # AdminShutdown, one of them
            out["error"] = "OperationalError"
        out["seconds"] = time.monotonic() - started
        killer.join()
    print(json.dumps(out))
""")


def _child(case: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, POSTGRES_ADMIN_URL, case], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_query_waiting_for_postgresql_lets_the_other_greenlets_run():
    out = _child("cooperative")
    assert out["slept"] == 42
    assert out["ticks"] >= 20  # 0.5 s of waiting, a tick every 10 ms; 1 if the wait blocked the process


def test_a_greenlet_waits_for_a_row_lock_held_by_another_greenlet_of_the_same_process():
    out = _child("row lock")
    assert out["order"] == ["first locked", "first done", "second locked", "second done"]
    assert out["n"] == 2


def test_a_pipeline_answers_every_statement_in_order():
    assert _child("pipeline")["doubled"] == [k * 2 for k in range(50)]


def test_a_connection_the_server_drops_raises_at_once_instead_of_hanging():
    out = _child("dropped")
    assert out["error"] == "OperationalError"
    assert out["seconds"] < 5
