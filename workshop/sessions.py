"""Flask's signed-cookie sessions, with each cookie checked once per process and minute.

Flask-SocketIO pushes a request context for every socket event, and Flask opens the
session cookie again each time: checking its signature was a tenth of the server's CPU
while 2,000 phones voted, for the same cookie value over and over. A value whose
signature checked out is remembered (keyed by the whole signed value, so only a cookie
this app signed can hit) for a minute; every request gets its own copy of the data.

After a socket's `connect`, Flask-SocketIO replaces whatever session Flask opened with its
own copy for that socket (`environ["saved_session"]`, made at connect), so opening the
cookie again for each of its events is wasted work: those get the socket's copy at once.

A cookie this process has just signed is remembered too: a phone's join answers with a new
cookie, and its socket opens it a moment later (each check was a tenth of a socket connect in a
join storm). Flask also built the signing serializer afresh for every open and every save; it
is built once per secret key, and it does not try zlib on what it signs: a session is a CSRF token
and join tokens, random text that zlib does not shorten, and each try set up zlib's tables (half
of a cookie's signing). A compressed cookie signed before still opens.
"""
from __future__ import annotations

import copy
import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

REMEMBER_SECONDS = 60.0
REMEMBER_AT_MOST = 20_000  # cookie values (a phone keeps one while it sits in a workshop)


class UncompressedSerializer(URLSafeTimedSerializer):
    """Flask's cookie serializer, without the zlib try (`load_payload` still opens a compressed one)."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(self.serializer.dumps(obj, **self.serializer_kwargs))


class CheckedOnceSessions(SecureCookieSessionInterface):
    def __init__(self):
        self.checked: dict[str, tuple[float, dict]] = {}
        self.serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if key not in self.serializers:
            if len(self.serializers) >= 8:  # keys rotated (or one app per test)
                self.serializers.clear()
            flasks = super().get_signing_serializer(app)
            self.serializers[key] = None if flasks is None else UncompressedSerializer(
                flasks.secret_keys, salt=flasks.salt, serializer=flasks.serializer,
                signer_kwargs=flasks.signer_kwargs)
        return self.serializers[key]

    def save_session(self, app, session, response):
        super().save_session(app, session, response)
        prefix = self.get_cookie_name(app) + "="
        for header in response.headers.getlist("Set-Cookie"):
            if header.startswith(prefix) and session:  # signed here, just now: known good
                self._remember(header[len(prefix):].split(";", 1)[0], dict(session))

    def open_session(self, app, request):
        kept = request.environ.get("saved_session")  # only a socket's environ has it (no header can set it)
        if kept is not None:
            return kept
        value = request.cookies.get(self.get_cookie_name(app))
        hit = self.checked.get(value) if value else None
        if hit is not None and hit[0] > time.monotonic():
            return self.session_class(copy.deepcopy(hit[1]))
        session = super().open_session(app, request)
        if value and session:  # an empty session: no cookie, or a bad signature or an expired one
            self._remember(value, dict(session))
        return session

    def _remember(self, value: str, data: dict) -> None:
        """Remember a cookie value whose signature is good, with its data, for a minute."""
        if len(self.checked) >= REMEMBER_AT_MOST:
            self.checked.clear()
        self.checked[value] = (time.monotonic() + REMEMBER_SECONDS, copy.deepcopy(data))
