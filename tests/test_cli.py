"""Flask commands: create a facilitator, seed the demo."""
from workshop.auth import find_facilitator
from workshop.models import Workshop


def test_create_facilitator(runner):
    r = runner.invoke(args=["create-facilitator", "ana@example.org", "--name", "Ana",
                            "--password", "a long password"])
    assert r.exit_code == 0 and "Created facilitator ana@example.org" in r.output
    user = find_facilitator("ana@example.org")
    assert user.name == "Ana" and user.check_password("a long password")
    again = runner.invoke(args=["create-facilitator", "ana@example.org", "--password", "a long password"])
    assert again.exit_code != 0 and "exists already" in again.output
    short = runner.invoke(args=["create-facilitator", "b@example.org", "--password", "short"])
    assert short.exit_code != 0 and find_facilitator("b@example.org") is None


def test_demo_is_idempotent_and_ready_to_run(runner, app):
    app.config["DEMO_EMAIL"] = "demo@example.org"
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    (w,) = Workshop.query.all()
    assert w.stages[0].phase == "collect" and len(w.stages[0].items) == 5
    assert find_facilitator("demo@example.org").check_password(app.config["DEMO_PASSWORD"])
