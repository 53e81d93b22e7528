"""Who may sign up, invites and the site admin (services.accounts, invites, site_admin).

On SQLite and PostgreSQL: the first account runs the site; ``invite`` and
``closed`` refuse plain sign-ups; an invite's uses, expiry and revocation
hold, under concurrency too; invite sign-ups skip the per-address limit;
deactivating ends every session and blocks log-in until reactivated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlmodel import Session, select

from blabber.models import Invite, User
from blabber.realtime import events
from blabber.services import accounts, invites, site_admin
from blabber.services.errors import NotAllowed, ServiceError
from tests.conftest import FAST

INVITE_ONLY = dataclasses.replace(FAST, signup_mode="invite")
CLOSED = dataclasses.replace(FAST, signup_mode="closed")


def sign_up(session, name: str, settings=FAST, **kw):
    return accounts.sign_up(session, name, "password1", settings=settings, **kw)


@pytest.fixture
def admin(session) -> int:
    """The install's first account: the site admin."""
    return sign_up(session, "root-admin").user_id


def test_the_first_account_runs_the_site_whatever_the_mode(session):
    first = sign_up(session, "first", settings=CLOSED)  # a fresh install needs someone
    second = sign_up(session, "second")
    assert session.get(User, first.user_id).is_site_admin
    assert not session.get(User, second.user_id).is_site_admin


def test_invite_mode_lets_in_only_invite_links_that_are_still_good(session, admin):
    with pytest.raises(ServiceError, match="by invite only"):
        sign_up(session, "walk-in", settings=INVITE_ONLY)
    _view, code = invites.create_invite(session, admin, expires_after="7d", max_uses=2)
    sign_up(session, "ann", settings=INVITE_ONLY, invite_code=code)
    with pytest.raises(ServiceError, match="taken"):  # a refused sign-up gives its use back
        sign_up(session, "ann", settings=INVITE_ONLY, invite_code=code)
    session.rollback()
    sign_up(session, "ben", settings=INVITE_ONLY, invite_code=code)
    with pytest.raises(ServiceError, match="used up"):
        sign_up(session, "cat", settings=INVITE_ONLY, invite_code=code)
    for crafted in ("not-a-code", "x" * 500):
        with pytest.raises(ServiceError, match="expired, been used up or been revoked"):
            sign_up(session, "dan", settings=INVITE_ONLY, invite_code=crafted)
    [listed, *_] = invites.list_invites(session, admin)
    assert (listed.uses, listed.max_uses, listed.active) == (2, 2, False)
    names = set(session.exec(select(User.username)).all())
    assert names == {"root-admin", "ann", "ben"}


def test_expired_and_revoked_invites_let_nobody_in(session, admin):
    _view, old = invites.create_invite(session, admin, expires_after="1d", max_uses=5)
    row = session.exec(select(Invite)).one()
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    session.add(row)
    session.commit()
    with pytest.raises(ServiceError, match="expired"):
        sign_up(session, "late", settings=INVITE_ONLY, invite_code=old)
    view, revoked = invites.create_invite(session, admin, expires_after="never", max_uses=5)
    invites.revoke_invite(session, admin, view.id)
    with pytest.raises(ServiceError, match="revoked"):
        sign_up(session, "gone", settings=INVITE_ONLY, invite_code=revoked)
    with pytest.raises(ServiceError, match="closed"):
        sign_up(session, "nope", settings=CLOSED, invite_code=revoked)


def test_a_team_behind_one_address_signs_up_through_an_invite(session, admin):
    strict = dataclasses.replace(INVITE_ONLY, signup_address_max=2, signup_mode="open")
    _view, code = invites.create_invite(session, admin, max_uses=5)
    for i in range(5):  # the same office address, more than the limit: all in
        sign_up(
            session, f"teammate{i}", settings=strict, client_address="10.0.0.7", invite_code=code
        )
    sign_up(session, "walk-in1", settings=strict, client_address="10.0.0.7")
    sign_up(session, "walk-in2", settings=strict, client_address="10.0.0.7")
    with pytest.raises(ServiceError, match="Too many sign-ups"):  # the limit still holds
        sign_up(session, "walk-in3", settings=strict, client_address="10.0.0.7")


def test_the_last_use_of_an_invite_lets_in_one_of_two_at_once(engine):
    with Session(engine) as setup:
        admin = sign_up(setup, "root-admin").user_id
        _view, code = invites.create_invite(setup, admin, max_uses=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(name: str) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                sign_up(session, name, settings=INVITE_ONLY, invite_code=code)
                outcomes.append("in")
            except ServiceError:
                outcomes.append("refused")
            except Exception:  # SQLite: the loser's write is refused ("database is locked")
                assert engine.dialect.name == "sqlite"
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["in", "refused"]
    with Session(engine) as check:
        assert check.exec(select(Invite.uses)).one() == 1
        assert len(check.exec(select(User)).all()) == 2


def test_only_a_site_admin_has_the_site_admins_powers(session, admin, broker):
    member = sign_up(session, "member").user_id
    for call in (
        lambda: invites.create_invite(session, member),
        lambda: invites.list_invites(session, member),
        lambda: site_admin.list_people(session, member),
        lambda: site_admin.set_active(session, member, admin, False),
        lambda: site_admin.make_site_admin(session, member, member),
    ):
        with pytest.raises(NotAllowed, match="site admin"):
            call()
    for expires, uses in (("forever", 1), ("7d", 0), ("7d", 1001), ("7d", True)):
        with pytest.raises(ServiceError):
            invites.create_invite(session, admin, expires_after=expires, max_uses=uses)
    assert [p.username for p in site_admin.list_people(session, admin, "MEM")] == ["member"]
    site_admin.make_site_admin(session, admin, member)
    assert site_admin.list_people(session, member, "member")[0].site_admin


def test_deactivating_ends_every_session_and_blocks_log_in_until_reactivated(
    session, admin, broker
):
    person = sign_up(session, "leaver")
    other = accounts.log_in(session, "leaver", "password1", settings=FAST)
    broker.published.clear()
    site_admin.set_active(session, admin, person.user_id, False)
    assert accounts.user_for_token(session, person.token) is None
    assert accounts.user_for_token(session, other.token) is None
    revoked = broker.of_type(events.SESSION_REVOKED)
    assert len(revoked) == 2  # both of their tabs are logged out live
    with pytest.raises(ServiceError, match="deactivated"):
        accounts.log_in(session, "leaver", "password1", settings=FAST)
    with pytest.raises(ServiceError, match="yourself"):
        site_admin.set_active(session, admin, admin, False)
    site_admin.set_active(session, admin, person.user_id, True)
    assert accounts.log_in(session, "leaver", "password1", settings=FAST).user_id == person.user_id
    assert [p.active for p in site_admin.list_people(session, admin, "leaver")] == [True]
