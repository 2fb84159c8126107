"""Sending the report by e-mail through a real SMTP server (aiosmtpd on localhost)."""
import asyncio
import email
import email.policy
import re
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.campaign_data import add_report_row, gen_report, report_pdf
from tests.conftest import gen_facilitator, gen_workshop
from tests.support import free_port, running_server


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses addresses at refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def check_login(server, session, envelope, mechanism, auth_data):
    """Accept only relay / s3cret (handled=False: aiosmtpd then sends the 235 or 535 itself)."""
    given = [v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password)]
    return AuthResult(success=isinstance(auth_data, LoginPassword) and given == ["relay", "s3cret"],
                      handled=False)


@pytest.fixture
def smtp(app, tmp_path):
    """A real SMTP server on a free port, and the app configured to use it (no TLS: localhost)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=check_login,
                            auth_require_tls=False)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_SECURITY="none",
                      SMTP_FROM="Charrette <reports@charrette.example>", SMTP_TIMEOUT=5.0,
                      REPORT_DIR=str(tmp_path / "reports"))
    yield inbox
    controller.stop()


def login(client, email="fac@example.org"):
    client.post("/login", data={"email": email, "password": "correct horse battery"})


def send(client, w, recipients="ministry@example.org, donor@example.org", subject="Report: safe migration",
         message="Dear partners,\nhere is what we agreed.\nÅsa, Ольга"):
    return client.post(f"/w/{w.code}/share/send", data={"recipients": recipients, "subject": subject,
                                                         "message": message})


def test_the_report_arrives_with_the_message_and_the_pdf(app, client, smtp):
    w = gen_workshop()
    gen_report(w)
    login(client)
    r = send(client, w, recipients="ministry@example.org\ndonor@example.org; Ministry@example.org")
    assert r.status_code == 302, r.get_data(as_text=True)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Report sent to 2 addresses" in page, page
    ((sender, rcpts, content),) = smtp.messages
    assert sender == "reports@charrette.example"
    assert rcpts == ["ministry@example.org", "donor@example.org"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "Report: safe migration"
    assert message["Reply-To"] == "Fac <fac@example.org>"
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert "Dear partners,\nhere is what we agreed.\nÅsa, Ольга" in body
    assert "Sent by Fac with Charrette" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Safe_migration_planning.pdf"
    assert attachment.get_content() == report_pdf()


def test_the_server_login_is_used_when_configured(app, client, smtp):
    w = gen_workshop()
    gen_report(w)
    login(client)
    app.config.update(SMTP_USERNAME="relay", SMTP_PASSWORD="wrong")
    r = send(client, w)
    assert r.status_code == 200 and "refused the SMTP login" in r.get_data(as_text=True)
    assert smtp.messages == []
    app.config.update(SMTP_PASSWORD="s3cret")
    assert send(client, w).status_code == 302 and len(smtp.messages) == 1


@pytest.mark.parametrize("recipients, error", [
    ("", "This field is required"),
    ("not-an-address", "Not an e-mail address: not-an-address"),
    ("ok@example.org, <script>@x", "Not an e-mail address"),
    (", ".join(f"p{n}@example.org" for n in range(21)), "At most 20 recipients"),
])
def test_bad_recipients_are_refused_and_nothing_is_sent(app, client, smtp, recipients, error):
    w = gen_workshop()
    gen_report(w)
    login(client)
    r = send(client, w, recipients=recipients)
    assert r.status_code == 200 and error in r.get_data(as_text=True).replace("&lt;", "<")
    assert smtp.messages == []


def test_a_subject_cannot_inject_headers(app, client, smtp):
    w = gen_workshop()
    gen_report(w)
    login(client)
    send(client, w, subject="Report\r\nBcc: spy@evil.example")
    ((_sender, rcpts, content),) = smtp.messages
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Bcc"] is None and "spy@evil.example" not in rcpts
    assert message["Subject"] == "Report Bcc: spy@evil.example"


def test_smtp_errors_are_shown_not_a_500(app, client, smtp):
    w = gen_workshop()
    gen_report(w)
    login(client)
    r = send(client, w, recipients="nobody@refused.example")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "refused every recipient" in html and "No such mailbox here" in html
    r = send(client, w, recipients="ok@example.org, nobody@refused.example")
    assert "Sent, except to: nobody@refused.example" in r.get_data(as_text=True)
    assert [rcpts for _s, rcpts, _c in smtp.messages] == [["ok@example.org"]]
    app.config["SMTP_SECURITY"] = "starttls"  # this server offers no TLS: never fall back to plain text
    r = send(client, w)
    assert r.status_code == 200 and "STARTTLS extension not supported" in r.get_data(as_text=True)
    app.config["SMTP_SECURITY"] = "ssl"
    r = send(client, w)
    assert r.status_code == 200 and "Could not send through the mail server" in r.get_data(as_text=True)
    app.config["SMTP_SECURITY"] = "tls please"
    assert "SMTP_SECURITY must be starttls, ssl or none" in send(client, w).get_data(as_text=True)
    app.config.update(SMTP_SECURITY="none", SMTP_PORT=free_port())  # nobody listens there
    r = send(client, w)
    assert r.status_code == 200 and "Could not send through the mail server" in r.get_data(as_text=True)
    assert len(smtp.messages) == 1


def test_without_smtp_or_report_the_page_says_so(app, client, tmp_path):
    w = gen_workshop()
    app.config.update(SMTP_HOST="", REPORT_DIR=str(tmp_path / "reports"))
    login(client)
    page = client.get(f"/w/{w.code}/share").get_data(as_text=True)
    assert "Sending e-mail is not set up on this server" in page and "No report is ready yet" in page
    r = send(client, w)
    page = r.get_data(as_text=True)
    # Refused like any other send error: the page says why and keeps what was typed.
    assert r.status_code == 200 and "No report is ready yet" in page and "here is what we agreed" in page
    gen_report(w)
    r = send(client, w)
    assert r.status_code == 200 and "Sending e-mail is not set up" in r.get_data(as_text=True)


def test_only_the_owner_sends(app, client, smtp, browser):
    w = gen_workshop()
    gen_report(w)
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    assert send(other.http, w).status_code == 403
    phone = browser()
    phone.join(w.code)
    assert send(phone.http, w).status_code == 302  # to the sign-in page
    assert smtp.messages == []


class SlowInbox(Inbox):
    """A mail server that takes its time to accept a message, like a congested relay."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(3)
        return await super().handle_DATA(server, session, envelope)


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.slow
def test_a_slow_mail_server_does_not_hold_up_the_live_session(tmp_path):
    """On the real gevent server, phones' pages answer at once while a send waits on SMTP."""
    import requests
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {"REPORT_DIR": str(tmp_path / "reports"), "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(controller.port), "SMTP_SECURITY": "none",
           "SMTP_FROM": "reports@charrette.example"}
    try:
        with running_server(tmp_path, **env) as base:
            laptop = requests.Session()
            login = laptop.get(f"{base}/login").text
            laptop.post(f"{base}/login", data={"email": "demo@example.org", "password": "demo-facilitator",
                                               "csrf_token": csrf(login)})
            code = re.search(r'class="code">(\w{6})<', laptop.get(f"{base}/workshops").text).group(1)
            add_report_row(tmp_path / "charrette.db", tmp_path / "reports", code)
            form = {"csrf_token": csrf(laptop.get(f"{base}/w/{code}/share").text),
                    "recipients": "ministry@example.org", "subject": "Report", "message": "Here it is."}
            sent = {}

            def send_now():
                started = time.monotonic()
                sent["response"] = laptop.post(f"{base}/w/{code}/share/send", data=form,
                                               allow_redirects=False)
                sent["seconds"] = time.monotonic() - started

            sender = threading.Thread(target=send_now)
            sender.start()
            time.sleep(0.5)  # the send is now waiting on the mail server
            waits = []
            while sender.is_alive():
                started = time.monotonic()
                assert requests.get(f"{base}/j/{code}", timeout=5).status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.2)
            sender.join()
        assert sent["response"].status_code == 302 and sent["seconds"] >= 3
        assert len(inbox.messages) == 1
        print(f"send {sent['seconds']:.2f} s; phone page during it: {len(waits)} loads, "
              f"slowest {max(waits) * 1000:.0f} ms")
        assert len(waits) >= 5 and max(waits) < 1.0, waits
    finally:
        controller.stop()


def test_report_mail_is_no_open_relay_sends_are_limited_per_account_and_workshop(app, client, smtp):
    app.config.update(MAIL_SENDS_PER_ACCOUNT_DAY=6, MAIL_SENDS_PER_WORKSHOP_DAY=4)
    fac = gen_facilitator()
    first, second, third = (gen_workshop(fac, title=t) for t in ("One", "Two", "Three"))
    for w in (first, second, third):
        gen_report(w)
    login(client)
    two = "a@example.org, b@example.org"
    assert send(client, first, recipients=two).status_code == 302
    assert send(client, first, recipients=two).status_code == 302
    r = send(client, first, recipients="c@example.org")  # the workshop's 4 a day are used
    assert r.status_code == 200 and "4 addresses a day" in r.get_data(as_text=True)
    r = send(client, second, recipients="a@example.org, b@example.org, c@example.org")  # 4 + 3 > 6
    assert r.status_code == 200 and "6 addresses a day" in r.get_data(as_text=True)
    assert send(client, second, recipients=two).status_code == 302  # 6 of the account's 6
    assert send(client, third, recipients="z@example.org").status_code == 200
    assert sum(len(rcpts) for _s, rcpts, _c in smtp.messages) == 6
    app.config.update(MAIL_SENDS_PER_ACCOUNT_DAY=0)
    assert send(client, third, recipients="z@example.org").status_code == 200


@pytest.mark.parametrize("name", ["Eve\r\nBcc: spy@evil.example", "Eve\nX-Injected: 1", "Eve\r"])
def test_a_stored_name_with_line_breaks_still_sends_on_one_header_line(app, client, smtp, name):
    from workshop.extensions import db
    w = gen_workshop()
    gen_report(w)
    w.facilitator.name = name  # stored before names were checked
    db.session.commit()
    login(client)
    assert send(client, w).status_code == 302
    ((_sender, rcpts, content),) = smtp.messages
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Bcc"] is None and message["X-Injected"] is None and "spy@evil.example" not in rcpts
    assert message["Reply-To"].addresses[0].addr_spec == "fac@example.org"
