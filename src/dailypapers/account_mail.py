"""Accounts' mails: an optional address, confirmed through a mailed link, and "forgot password":
a signed link to that address that sets a new password once, within an hour.

A reset link carries a fingerprint of the password hash it was made under, so it stops
working as soon as the password changes, by itself or otherwise: one use, no table of used
links. Asking for a reset answers the same whoever is asked about.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from dailypapers.accounts import (
    USERNAME_RULE,
    AccountError,
    aware,
    check_password,
    confirm_password,
    find_user,
    replace_password,
)
from dailypapers.config import Settings
from dailypapers.mail.render import AddressSettingError, MailWriter, sender_address
from dailypapers.mail.smtp import SmtpFailure, reason_for_readers, send_for_request
from dailypapers.mail.subscriptions import (
    SubscriptionError,
    limit_confirmation_mails,
    normalise_address,
)
from dailypapers.mail.tokens import CONFIRM_ADDRESS, LIFETIMES, RESET, TokenError, link_signer
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.users import (
    account_address,
    reset_sent_at,
    update_user,
    user_by_id,
    user_by_name,
    users_with_address,
)

# A second reset mail to one account waits this long: the form is no mail cannon.
RESET_RESEND_AFTER = timedelta(minutes=10)
# Each mail's subject, button, and the site's path its link goes to (before the token).
MAILS = {
    CONFIRM_ADDRESS: ("Confirm your address", "Confirm my address", "/account/address/confirm/"),
    RESET: ("Set a new password", "Set a new password", "/reset/"),
}
USED = "this password reset link was used already, or the password changed"
log = logging.getLogger(__name__)


def set_address(
    settings: Settings,
    store: Store,
    user: User,
    email: str,
    password: str,
    client: str | None,
    now: datetime,
) -> str:
    """Keep `email` as the user's address, unconfirmed, and mail it a confirmation link; the
    password first, since a confirmed address can reset it."""
    try:
        address = normalise_address(email)
    except SubscriptionError as error:
        raise AccountError(str(error), field="email") from None
    confirm_password(store, user, password, client, now)
    limit_confirmation_mails(settings, store, address, client or "unknown", now)  # 429
    with store.transaction() as connection:
        update_user(connection, user.id, email=address, email_confirmed_at=None)
    token = link_signer(settings, store).make(CONFIRM_ADDRESS, {"u": user.id, "e": address})
    intro = f"Someone, hopefully you, gave {address} as the address of the account {user.username}."
    try:
        _send(settings, address, now, CONFIRM_ADDRESS, intro, token)
    except (SmtpFailure, AddressSettingError) as failure:
        reason = reason_for_readers(failure, settings)
        message = f"the confirmation mail could not be sent ({reason}); try again later"
        raise AccountError(message, field="email") from None
    return address


def confirm_address(settings: Settings, store: Store, token: str, now: datetime) -> str:
    """Follow a confirmation link: the address it names becomes the account's confirmed one,
    if the account still has it; following it again changes nothing."""
    payload = link_signer(settings, store).read(CONFIRM_ADDRESS, token)
    with store.transaction() as connection:
        found = user_by_id(connection, int(payload.get("u", 0)))
        address, confirmed = account_address(connection, found.id) if found else (None, False)
        if address is None or address != payload.get("e"):
            raise TokenError("this link is for an address the account no longer has")
        if not confirmed:
            update_user(connection, found.id, email_confirmed_at=now)  # type: ignore[union-attr]
    return address


def request_reset(settings: Settings, store: Store, who: str, now: datetime) -> None:
    """Mail a reset link to the accounts that `who` names (a username, or a confirmed
    address) and that have a confirmed address. Says nothing either way."""
    for user, password_hash, address in _reset_holders(store, who.strip()):
        with store.transaction() as connection:
            sent = reset_sent_at(connection, user.id)
            if sent and now - aware(sent) < RESET_RESEND_AFTER:
                continue
            update_user(connection, user.id, reset_sent_at=now)
        token = link_signer(settings, store).make(
            RESET, {"u": user.id, "h": _fingerprint(password_hash)}
        )
        intro = f"Someone, hopefully you, asked to set a new password for {user.username}."
        try:
            _send(settings, address, now, RESET, intro, token)
        except (SmtpFailure, AddressSettingError) as failure:  # told to nobody but the log
            log.warning("password reset mail to user %s not sent: %s", user.id, failure)
            with store.transaction() as connection:
                update_user(connection, user.id, reset_sent_at=None)


def reset_holder(settings: Settings, store: Store, token: str) -> tuple[User, str]:
    """The account a reset link is for and its password hash, while the link is valid:
    signed, under an hour old, and made under the account's current password."""
    payload = link_signer(settings, store).read(RESET, token)
    with store.read() as connection:
        user = user_by_id(connection, int(payload.get("u", 0)))
        found = user_by_name(connection, user.username) if user else None
    if found is None or _fingerprint(found[1]) != payload.get("h"):
        raise TokenError(USED)
    return found


def reset_password(settings: Settings, store: Store, token: str, new_password: str) -> User:
    """Set the new password a reset link was for: every session ends, every token goes.
    Two uses at once: one wins (the hash it was made under is replaced only once)."""
    user, password_hash = reset_holder(settings, store, token)
    check_password(new_password, field="new_password")
    if not replace_password(store, user, new_password, replacing=password_hash):
        raise TokenError(USED)
    return user


def _reset_holders(store: Store, who: str) -> list[tuple[User, str, str]]:
    """(user, password hash, confirmed address) of the accounts `who` names."""
    with store.read() as connection:
        if "@" in who:
            try:
                address = normalise_address(who)
            except SubscriptionError:
                return []
            return [(u, h, address) for u, h in users_with_address(connection, address)]
        if not USERNAME_RULE.fullmatch(who):  # nobody's name (NUL and all): not looked up
            return []
        try:
            user = find_user(connection, who)
        except AccountError:
            return []
        address, confirmed = account_address(connection, user.id)
        found = user_by_name(connection, user.username)
    return [(user, found[1], address)] if confirmed and found and address else []


def _send(
    settings: Settings, address: str, now: datetime, purpose: str, intro: str, token: str
) -> None:
    subject, button, path = MAILS[purpose]
    link = settings.base_url.rstrip("/") + path + token
    hours = int(LIFETIMES[purpose].total_seconds() // 3600)
    lifetime = "an hour" if hours == 1 else f"{hours} hours"
    sender = sender_address(settings.mail_from)
    message = MailWriter(sender, now).account_link(address, subject, intro, button, link, lifetime)
    send_for_request(settings, sender.addr_spec, address, message)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]
