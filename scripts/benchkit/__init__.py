"""Benchmark a live workshop: load generation, scenario, monitoring and report, for scripts/bench.py.

load.py      simulated phones, their fleet, the facilitator's sign-in, HTTP/socket helpers
screens.py   the console and the projector (in a process of its own) that record every view
monitor.py   the server's CPU and RSS, py-spy profiles, the load generator's loop lag and GC
scenario.py  the workshop's phases (join, collect, open vote, vote, reveal) and the checks
servers.py   the servers measured: the app (this or another checkout), scale-out, the bare one
report.py    a run's result, the table's rows and ratios, the details
"""
