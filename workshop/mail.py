"""Sending the report to partners by e-mail, over the SMTP server in the settings.

The send runs inside the facilitator's request. Under gevent (`python
wsgi.py`) smtplib's sockets are monkey-patched, so waiting on the mail server
yields to the live session's greenlets instead of blocking them; SMTP_TIMEOUT
bounds how long the facilitator waits for an answer.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import Refused

SECURITY = ("starttls", "ssl", "none")


def configured() -> bool:
    """True when an SMTP server and a sender address are set."""
    cfg = current_app.config
    return bool(cfg.get("SMTP_HOST") and cfg.get("SMTP_FROM"))


def build(*, sender: str, recipients: list[str], reply_to: tuple[str, str] | None, subject: str,
          text: str, pdf: Path, filename: str) -> EmailMessage:
    """Compose the e-mail: the facilitator's text and the PDF report attached."""
    message = EmailMessage()
    # Header values on one line whatever was stored (a name with CR/LF from before it was checked).
    subject = " ".join(subject.split())
    reply_to = (" ".join(reply_to[0].split()), reply_to[1].strip()) if reply_to else None
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    if reply_to:
        message["Reply-To"] = formataddr(reply_to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(text)
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=filename)
    return message


def send(message: EmailMessage) -> None:
    """Hand a message to the SMTP server, or refuse with what went wrong (never a 500)."""
    cfg = current_app.config
    if not configured():
        raise Refused(_l("Sending e-mail is not set up on this server (SMTP_HOST and SMTP_FROM). "
                         "Use a share link or download the PDF instead."), 503)
    security = str(cfg["SMTP_SECURITY"]).lower()
    if security not in SECURITY:
        raise Refused(_l("SMTP_SECURITY must be starttls, ssl or none."), 503)
    host, port, timeout = cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), float(cfg["SMTP_TIMEOUT"])
    context = ssl.create_default_context()
    try:
        if security == "ssl":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        with server:
            if security == "starttls":
                server.starttls(context=context)
            if cfg.get("SMTP_USERNAME"):
                server.login(cfg["SMTP_USERNAME"], cfg.get("SMTP_PASSWORD") or "")
            refused = server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise Refused(_("The mail server refused every recipient: %(who)s",
                        who=_describe(error.recipients)), 502) from None
    except smtplib.SMTPAuthenticationError:
        raise Refused(_("The mail server refused the SMTP login (check SMTP_USERNAME and SMTP_PASSWORD)."),
                      502) from None
    except smtplib.SMTPResponseException as error:
        raise Refused(_("The mail server said: %(code)s %(text)s", code=error.smtp_code,
                        text=_decode(error.smtp_error)), 502) from None
    except (smtplib.SMTPException, OSError) as error:  # OSError covers timeouts and TLS errors
        raise Refused(_("Could not send through the mail server %(host)s:%(port)d (%(error)s).",
                        host=host, port=port, error=str(error) or type(error).__name__), 502) from None
    if refused:
        raise Refused(_("Sent, except to: %(who)s", who=_describe(refused)), 502)


def _decode(raw) -> str:
    """Return an SMTP server's reply text as a string."""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _describe(refused: dict) -> str:
    """List refused recipients with the server's reason."""
    return "; ".join(f"{who} ({code} {_decode(why)})" for who, (code, why) in refused.items())
