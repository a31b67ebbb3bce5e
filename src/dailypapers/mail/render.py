"""Mails as the bytes SMTP carries: Jinja2 text and HTML parts (multipart/alternative), and
headers that cannot be injected.

Every header goes through the email package: its policy refuses a value holding CR or LF
(`header_store_parse`), its header registry parses the value, and the policy folds it. Text
that reaches a header (a subject, an address) is whitespace-collapsed before that, too. The
HTML has inline styles only and no external assets, so it reads the same in webmail and
desktop clients.

A run writes thousands of digests, and the email package's generator and header folding
are pure Python (~3 ms a mail), so `MailWriter` keeps what a run's mails share: the folded
headers common to them, and each digest section (a list of papers) rendered once. The MIME
framing of the two parts is fixed text; their bodies are quoted-printable (binascii, in C),
which cannot contain the boundary.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dailypapers.mail.selection import Digest, DigestPaper, SeeAll

if TYPE_CHECKING:
    from dailypapers.mail.subscriptions import Choices

ENVIRONMENT = Environment(
    loader=PackageLoader("dailypapers.mail", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # templates ship with the package: no stat() per mail
)
HEADERS = policy.default
# SMTP line endings; headers folded at 998 (RFC 5322's hard limit) rather than 78, because the
# email package splits a long unbreakable URL into encoded words, which breaks the
# List-Unsubscribe link for every client.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)
_PART = (
    b'--%s\r\nContent-Type: text/%s; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)


class AddressSettingError(ValueError):
    """`mail_from` is not an address."""


@dataclass(frozen=True, slots=True)
class Links:
    """The site's links that a mail carries, already signed where they need to be."""

    site: str
    unsubscribe: str
    manage: str


@dataclass(frozen=True, slots=True)
class Section:
    """A digest's list of papers: the trending ones of some categories, or a search's."""

    query: str | None  # None: trending (or, with `reasons`, for you)
    categories: tuple[str, ...]
    papers: tuple[DigestPaper, ...]
    see_all: SeeAll
    reasons: tuple[str, ...] = ()  # for you: why each paper is there


@dataclass(frozen=True, slots=True)
class RenderedSection:
    text: str
    html: Markup


def sender_address(mail_from: str) -> Address:
    """`mail_from` ("Name <address>" or a bare address) as a header address."""
    name, address = parseaddr(mail_from)
    refused = AddressSettingError(f"mail_from {mail_from!r} is not an address")
    if "\r" in mail_from or "\n" in mail_from or "@" not in address:
        raise refused
    try:
        return Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        raise refused from None


def one_line(text: str) -> str:
    return " ".join(text.split())


def digest_heading(digest: Digest) -> str:
    first, last = digest.days
    frequency = digest.subscriber.frequency.capitalize()
    if first == last:
        return f"{frequency} papers of {last:%A}, {_day(last)}"
    return f"{frequency} papers, {_day(first)} to {_day(last)}"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def sections_of(digest: Digest) -> list[Section]:
    found = []
    if digest.for_you:
        mine = digest.for_you
        found.append(Section(None, (), tuple(mine.papers), mine.see_all, tuple(mine.reasons)))
    if digest.trending:
        categories = tuple(digest.subscriber.categories)
        found.append(Section(None, categories, tuple(digest.trending), digest.trending_all))
    found += [Section(s.query, (), tuple(s.papers), s.see_all) for s in digest.searches]
    return found


class MailWriter:
    """Writes the mails of one run, all from `sender` and dated `now`."""

    def __init__(self, sender: Address, now: datetime) -> None:
        self.sender = sender
        # "=_" never occurs in quoted-printable text, so no part can contain the boundary.
        self.boundary = f"=_dailypapers_{secrets.token_hex(12)}"
        self._folded: dict[tuple[str, str], bytes] = {}
        self._sections: dict[tuple[object, ...], RenderedSection] = {}
        self._shared = [
            ("From", str(sender)),
            ("Date", format_datetime(now)),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"'),
        ]

    def digest(self, digest: Digest, message_id: str, links: Links) -> bytes:
        """The digest, with one-click unsubscribe headers (RFC 8058)."""
        heading = digest_heading(digest)
        context = {
            "heading": heading,
            "sections": [self._section(section) for section in sections_of(digest)],
            "frequency": digest.subscriber.frequency,
            "email": digest.subscriber.email,
            "links": links,
        }
        unique = [
            ("To", digest.subscriber.email),
            ("Message-ID", message_id),
            ("List-Unsubscribe", f"<{links.unsubscribe}>"),
        ]
        shared = [
            ("Subject", one_line(heading)),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
        ]
        return self._message(unique, shared, "digest", context)

    def confirmation(self, email: str, choices: Choices, confirm_url: str, site: str) -> bytes:
        """The double opt-in mail: one link, and nothing else until it is followed."""
        context = {"email": email, "choices": choices, "confirm_url": confirm_url, "site": site}
        subject = f"Confirm your {choices.frequency} papers digest"
        shared = [("Subject", subject), ("Auto-Submitted", "auto-generated")]
        return self._message([("To", email)], shared, "confirm", context)

    def account_link(
        self, email: str, subject: str, intro: str, button: str, link: str, lifetime: str
    ) -> bytes:
        """A mail about an account with one link: confirm the address, reset the password."""
        context = {"intro": intro, "button": button, "link": link, "lifetime": lifetime}
        shared = [("Subject", subject), ("Auto-Submitted", "auto-generated")]
        return self._message([("To", email)], shared, "account_link", context)

    def job_alert(self, email: str, context: dict[str, object]) -> bytes:
        """To an admin: a job has failed several times in a row (sent once per streak)."""
        subject = f"dailypapers: the job {context['key']} keeps failing"
        shared = [("Subject", one_line(subject)), ("Auto-Submitted", "auto-generated")]
        return self._message([("To", email)], shared, "job_alert", context)

    def reply(
        self, email: str, message_id: str, replier: str, title: str, context: dict[str, object]
    ) -> bytes:
        """To a reader: someone replied to their comment (once per reply)."""
        subject = one_line(f"{replier} replied to your comment on «{title}»")
        unique = [("To", email), ("Message-ID", message_id), ("Subject", subject)]
        context = {"replier": replier, "title": title, **context}
        return self._message(unique, [("Auto-Submitted", "auto-generated")], "reply", context)

    def _message(
        self,
        unique: list[tuple[str, str]],
        shared: list[tuple[str, str]],
        template: str,
        context: dict[str, object],
    ) -> bytes:
        headers = [self._fold(name, value, keep=True) for name, value in self._shared + shared]
        headers += [self._fold(name, value) for name, value in unique]
        text = ENVIRONMENT.get_template(f"{template}.txt").render(context)
        html = ENVIRONMENT.get_template(f"{template}.html").render(context)
        boundary = self.boundary.encode()
        return b"".join(
            [
                *headers,
                b"\r\n",
                _PART % (boundary, b"plain"),
                _quoted_printable(text),
                _PART % (boundary, b"html"),
                _quoted_printable(html),
                b"--%s--\r\n" % boundary,
            ]
        )

    def _fold(self, name: str, value: str, keep: bool = False) -> bytes:
        """One header line, folded; refused (ValueError) when the value holds CR or LF."""
        if (name, value) in self._folded:
            return self._folded[name, value]
        _, header = HEADERS.header_store_parse(name, value)
        folded = WIRE_POLICY.fold_binary(name, header)
        if keep:
            self._folded[name, value] = folded
        return folded

    def _section(self, section: Section) -> RenderedSection:
        key = (
            section.query,
            section.categories,
            section.see_all,
            section.reasons,
            *(p.id for p in section.papers),
        )
        if key not in self._sections:
            context = {"section": section}
            self._sections[key] = RenderedSection(
                ENVIRONMENT.get_template("_section.txt").render(context),
                Markup(ENVIRONMENT.get_template("_section.html").render(context)),
            )
        return self._sections[key]


def _quoted_printable(text: str) -> bytes:
    body = binascii.b2a_qp(text.replace("\r\n", "\n").replace("\n", "\r\n").encode(), istext=True)
    return body if body.endswith(b"\r\n") else body + b"\r\n"
