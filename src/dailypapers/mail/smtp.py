"""One SMTP connection, kept open across messages, that hands a message over in two steps.

SMTP has no two-phase commit: a server takes responsibility for a message when it reads the
final "." of DATA, and says so in its reply. A client that records "sent" after the reply
resends a message whose reply it did not live to read; one that records it before sending
anything loses a message it did not live to send. Here the whole message goes out except
that final line, then the caller's `handed_over` callback records the message as sent, and
only then is the "." written. A client killed before the record leaves the server holding an
unterminated message, which it discards when the connection drops (RFC 5321 4.1.1.4); once
the "." is in the kernel's socket buffer, the kernel delivers it even if the process dies.
What remains is the instant between the record's commit and that one write: a crash exactly
there loses the message (it stays recorded as sent).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from functools import cache
from types import TracebackType

from dailypapers.config import Settings
from dailypapers.slots import Slots, SlotsFull

_LEADING_DOT = re.compile(rb"(?m)^\.")
# Mails a web request waits for (confirmation and reset links) go out a few at a time per
# process: a mail server that does not answer then holds a few request threads, not all.
REQUEST_MAILS_AT_ONCE = 4
REQUEST_MAILS_QUEUED = 4
REQUEST_MAIL_WAIT_S = 5.0
NOT_SET_UP = "email is not set up on this site"
READERS_CALL_IT = "the mail server"  # readers are not told where the site's mail server is


def sends_mail(settings: Settings) -> bool:
    """Whether the site has an SMTP server to mail through (smtp_host is set)."""
    return bool(settings.smtp_host)


def reason_for_readers(failure: Exception, settings: Settings) -> str:
    """The failure's one line without the server's address, for a page or a JSON answer."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    said = str(failure).replace(f"the SMTP server {where}", READERS_CALL_IT)
    return said.replace(where, READERS_CALL_IT)


class SmtpFailure(Exception):
    """A refusal or failure, as one line. `code` is the server's reply code (0: no reply);
    `handed_over` says whether it came after the message was recorded as sent."""

    def __init__(self, message: str, code: int = 0, handed_over: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.handed_over = handed_over

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class Unreachable(SmtpFailure):
    """No usable connection to the server (refused, lost, TLS or login failed): every
    message waits for it. A login refused (5xx) is permanent."""


class SmtpConnection:
    """Connects on first use and again after a lost connection; closed by `close` or `with`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def send(
        self, sender: str, recipient: str, payload: bytes, handed_over: Callable[[], None]
    ) -> None:
        """Send one message (CRLF line endings) to one recipient; `handed_over` runs between
        the message and its final "." (see the module's docstring)."""
        smtp = self._connected()
        try:
            self._expect(smtp.mail(sender), (250,), "MAIL FROM")
            self._expect(smtp.rcpt(recipient), (250, 251), "RCPT TO")
            self._expect(smtp.docmd("DATA"), (354,), "DATA")
            body = _LEADING_DOT.sub(b"..", payload)
            smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise Unreachable(f"connection to {self.where} lost: {_reason(error)}") from None
        try:
            handed_over()
        except BaseException:
            self._drop()  # the server discards the unterminated message
            raise
        try:
            smtp.send(b".\r\n")
            reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            message = f"connection to {self.where} lost after the message: {_reason(error)}"
            raise Unreachable(message, handed_over=True) from None
        self._expect(reply, (250,), "end of DATA", handed_over=True)

    def _connected(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.smtp_host:
            raise Unreachable(f"{NOT_SET_UP}: set smtp_host")
        try:
            if s.smtp_ssl:
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            # The final "." follows the message in a write of its own: with Nagle's algorithm
            # it would wait for the server's delayed ACK of the message (~40 ms a mail).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_user, password)
        except smtplib.SMTPAuthenticationError as error:
            raise Unreachable(
                f"{self.where} refused the login: {_reply(error.smtp_code, error.smtp_error)}",
                error.smtp_code,
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise Unreachable(
                f"cannot reach the SMTP server {self.where}: {_reason(error)}"
            ) from None
        return smtp

    def _expect(
        self,
        reply: tuple[int, bytes],
        accepted: tuple[int, ...],
        step: str,
        handed_over: bool = False,
    ) -> None:
        code, text = reply
        if code in accepted:
            return
        if code == 421 or code < 0:  # the server is closing the connection
            self._drop()
            if code < 0 or not handed_over:  # (a 421 to the "." refuses the message)
                message = f"{self.where} closed the connection at {step}: {_reply(code, text)}"
                raise Unreachable(message, code, handed_over)
        elif not handed_over:
            self._reset()
        raise SmtpFailure(f"{step} refused: {_reply(code, text)}", code, handed_over)

    def _reset(self) -> None:
        """Abandon the current mail transaction, keeping the connection."""
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()) or type(error).__name__


@cache
def _request_mail_slots() -> Slots:
    return Slots(REQUEST_MAILS_AT_ONCE, REQUEST_MAILS_QUEUED, REQUEST_MAIL_WAIT_S)


def send_for_request(settings: Settings, sender: str, recipient: str, message: bytes) -> None:
    """Send one mail that a web request waits for, over a connection of its own; Unreachable
    at once when a few such mails are on their way already."""
    try:
        with _request_mail_slots().held(), SmtpConnection(settings) as smtp:
            smtp.send(sender, recipient, message, handed_over=lambda: None)
    except SlotsFull:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise Unreachable(
            f"the SMTP server {where} is slow: {REQUEST_MAILS_AT_ONCE} mails are on their way"
        ) from None
