"""The Luminate half of the reference's SQLite database: schema, seed and data access.

Tables carry an ``lo_`` prefix because the Kognitiv reference shares the database.
Every method runs on the connection of the caller's transaction
(:meth:`~conformance.reference.database.Database.transaction`), so a call that fails
half-way leaves nothing behind and concurrent creates of one email are serialized.

Facts kept here:
- primary emails are stored as given and matched case-insensitively (L-C17) through
  ``email_key``, the lower-cased address;
- passwords and session tokens are stored only as SHA-256 digests: the database never
  holds a usable credential, and a dump of it leaks nothing;
- interaction ids and note ids come from AUTOINCREMENT sequences, so they are positive
  and never reused, even after a rollback or a delete.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.profile import Group
from conformance.reference.database import Database
from conformance.reference.site import Login, LuminateSite

FIRST_NEW_CONS_ID = 1001000
# Seeded records without a profile-given id are numbered from here, below the ids the
# API hands out, so fixtures and API-created records never collide.
FIRST_FIXTURE_CONS_ID = 1000100
# Created through the API (L-C15): origin "Constituent API", active, non-donor.
ORIGIN_CONSTITUENT_API = 35
ACTIVE = 1
DONOR_STATUS_NON_DONOR = 1
ACTIVE_DETAIL_UNKNOWN = 1
ACTIVE_DETAIL_KNOWN = 2
# SQLite integers are signed 64-bit; a larger id cannot name a stored row.
MAX_ROW_ID = 2**63 - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS lo_constituent (
    cons_id        INTEGER PRIMARY KEY,
    member_id      TEXT,
    primary_email  TEXT,
    email_key      TEXT,
    first_name     TEXT,
    last_name      TEXT,
    origin         INTEGER,
    active         INTEGER,
    active_detail  INTEGER,
    donor_status   INTEGER,
    source         TEXT,
    sub_source     TEXT
);
CREATE INDEX IF NOT EXISTS lo_constituent_member ON lo_constituent (member_id);
CREATE INDEX IF NOT EXISTS lo_constituent_email ON lo_constituent (email_key);

CREATE TABLE IF NOT EXISTS lo_account (
    cons_id         INTEGER PRIMARY KEY REFERENCES lo_constituent (cons_id),
    role            TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    password_sha256 TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS lo_session (
    token_sha256 TEXT PRIMARY KEY,
    cons_id      INTEGER NOT NULL REFERENCES lo_constituent (cons_id)
);

CREATE TABLE IF NOT EXISTS lo_interaction (
    interaction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    cons_id        INTEGER NOT NULL REFERENCES lo_constituent (cons_id),
    type_id        INTEGER NOT NULL,
    category_id    INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    subject        TEXT NOT NULL,
    created_by     INTEGER NOT NULL,
    creation_date  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lo_interaction_cons ON lo_interaction (cons_id, interaction_id);

CREATE TABLE IF NOT EXISTS lo_note (
    note_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction_id INTEGER NOT NULL UNIQUE REFERENCES lo_interaction (interaction_id),
    text           TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS lo_group (
    group_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS lo_membership (
    cons_id  INTEGER NOT NULL REFERENCES lo_constituent (cons_id),
    group_id INTEGER NOT NULL REFERENCES lo_group (group_id),
    PRIMARY KEY (cons_id, group_id)
);
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def email_key(email: str) -> str:
    return email.lower()


@dataclass(frozen=True)
class ConsRecord:
    cons_id: int
    member_id: str | None
    primary_email: str | None
    first_name: str | None
    last_name: str | None
    origin: int | None
    active: int | None
    active_detail: int | None
    donor_status: int | None


@dataclass(frozen=True)
class InteractionRecord:
    interaction_id: int
    cons_id: int
    type_id: int
    category_id: int
    count: int
    subject: str
    created_by: int
    creation_date: str
    note_id: int | None
    note_text: str | None


@dataclass(frozen=True)
class NewInteraction:
    """What logInteraction (or createOrUpdate, L-C11) stores for one interaction."""

    subject: str
    body: str | None
    type_id: int
    category_id: int
    count: int


def install(db: Database, site: LuminateSite) -> None:
    """Create the tables and seed the site once (a second call finds it seeded)."""
    db.executescript(SCHEMA)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM lo_constituent LIMIT 1").fetchone() is None:
            _seed(Store(conn), site)


def _seed(store: Store, site: LuminateSite) -> None:
    """Exactly what the profile names: three logins, the two fixture pairs, the groups."""
    for login in site.logins:
        email = site.constituent_email if login.role == "constituent" else None
        store.insert_constituent(login.cons_id, member_id=None, primary_email=email)
        store.insert_account(login)
    fixture_id = FIRST_FIXTURE_CONS_ID
    pairs: list[tuple[str | None, str | None]] = []
    if site.shared_member_id is not None:
        pairs += [(site.shared_member_id, None)] * 2
    if site.shared_email is not None:
        # Legacy duplicates: they predate unique-email enforcement, which governs only
        # what the API may create or update, so they exist whatever the setting.
        pairs += [(None, site.shared_email)] * 2
    for member_id, email in pairs:
        while store.constituent(fixture_id) is not None:
            fixture_id += 1
        store.insert_constituent(fixture_id, member_id=member_id, primary_email=email)
        fixture_id += 1
    for group in site.groups:
        store.conn.execute("INSERT INTO lo_group (group_id, name) VALUES (?, ?)", (group.id, group.name))


class Store:
    """Data access on one transaction's connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # ---- constituents ----

    def insert_constituent(
        self,
        cons_id: int,
        *,
        member_id: str | None,
        primary_email: str | None,
        first_name: str | None = None,
        last_name: str | None = None,
        origin: int | None = None,
        active_detail: int = ACTIVE_DETAIL_UNKNOWN,
        source: str | None = None,
        sub_source: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO lo_constituent (cons_id, member_id, primary_email, email_key, first_name,"
            " last_name, origin, active, active_detail, donor_status, source, sub_source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cons_id,
                member_id,
                primary_email,
                email_key(primary_email) if primary_email is not None else None,
                first_name,
                last_name,
                origin,
                ACTIVE,
                active_detail,
                DONOR_STATUS_NON_DONOR,
                source,
                sub_source,
            ),
        )

    def create_constituent(
        self,
        *,
        member_id: str | None,
        primary_email: str | None,
        first_name: str | None,
        last_name: str | None,
        welcome_sent: bool,
        source: str | None,
        sub_source: str | None,
        origin: int = ORIGIN_CONSTITUENT_API,
    ) -> int:
        """A record created through the API, with the initial state of L-C15."""
        row = self.conn.execute("SELECT MAX(cons_id) FROM lo_constituent").fetchone()
        cons_id = max(FIRST_NEW_CONS_ID - 1, row[0] or 0) + 1
        self.insert_constituent(
            cons_id,
            member_id=member_id,
            primary_email=primary_email,
            first_name=first_name,
            last_name=last_name,
            origin=origin,
            active_detail=ACTIVE_DETAIL_KNOWN if welcome_sent else ACTIVE_DETAIL_UNKNOWN,
            source=source,
            sub_source=sub_source,
        )
        return cons_id

    def update_constituent(
        self,
        cons_id: int,
        *,
        primary_email: str | None,
        first_name: str | None,
        last_name: str | None,
        member_id: str | None = None,
    ) -> None:
        """Set the given values; ``None`` leaves a field as it is.

        ``member_id`` is a lookup key that an update never writes (L-C10); only the
        deliberate mistake "member-id-written-on-update" passes one.
        """
        if member_id is not None:
            self.conn.execute(
                "UPDATE lo_constituent SET member_id = ? WHERE cons_id = ?", (member_id, cons_id)
            )
        if primary_email is not None:
            self.conn.execute(
                "UPDATE lo_constituent SET primary_email = ?, email_key = ? WHERE cons_id = ?",
                (primary_email, email_key(primary_email), cons_id),
            )
        if first_name is not None:
            self.conn.execute(
                "UPDATE lo_constituent SET first_name = ? WHERE cons_id = ?", (first_name, cons_id)
            )
        if last_name is not None:
            self.conn.execute(
                "UPDATE lo_constituent SET last_name = ? WHERE cons_id = ?", (last_name, cons_id)
            )

    def constituent(self, cons_id: int) -> ConsRecord | None:
        row = self.conn.execute(
            "SELECT cons_id, member_id, primary_email, first_name, last_name, origin, active,"
            " active_detail, donor_status FROM lo_constituent WHERE cons_id = ?",
            (cons_id,),
        ).fetchone()
        return None if row is None else ConsRecord(*row)

    def ids_by_member_id(self, member_id: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT cons_id FROM lo_constituent WHERE member_id = ? ORDER BY cons_id LIMIT 2", (member_id,)
        )
        return [r[0] for r in rows]

    def ids_by_email(self, email: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT cons_id FROM lo_constituent WHERE email_key = ? ORDER BY cons_id LIMIT 2",
            (email_key(email),),
        )
        return [r[0] for r in rows]

    def email_used_by_other(self, email: str, cons_id: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM lo_constituent WHERE email_key = ? AND cons_id <> ? LIMIT 1",
            (email_key(email), cons_id),
        ).fetchone()
        return row is not None

    # ---- accounts and sessions ----

    def insert_account(self, login: Login) -> None:
        self.conn.execute(
            "INSERT INTO lo_account (cons_id, role, user_name, password_sha256) VALUES (?, ?, ?, ?)",
            (login.cons_id, login.role, login.user_name, _digest(login.password)),
        )

    def authenticate(self, user_name: str, password: str, role: str) -> int | None:
        """The cons_id of the ``role`` account these credentials open, else None."""
        row = self.conn.execute(
            "SELECT cons_id, password_sha256 FROM lo_account WHERE user_name = ? AND role = ?",
            (user_name, role),
        ).fetchone()
        if row is None or not hmac.compare_digest(row[1], _digest(password)):
            return None
        return int(row[0])

    def open_session(self, cons_id: int) -> str:
        token = secrets.token_urlsafe(24)
        self.conn.execute(
            "INSERT INTO lo_session (token_sha256, cons_id) VALUES (?, ?)", (_digest(token), cons_id)
        )
        return token

    def session_owner(self, token: str) -> int | None:
        row = self.conn.execute(
            "SELECT cons_id FROM lo_session WHERE token_sha256 = ?", (_digest(token),)
        ).fetchone()
        return None if row is None else int(row[0])

    def close_session(self, token: str) -> None:
        self.conn.execute("DELETE FROM lo_session WHERE token_sha256 = ?", (_digest(token),))

    # ---- interactions ----

    def log_interaction(self, cons_id: int, new: NewInteraction, created_by: int, creation_date: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO lo_interaction (cons_id, type_id, category_id, count, subject, created_by,"
            " creation_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cons_id, new.type_id, new.category_id, new.count, new.subject, created_by, creation_date),
        )
        interaction_id = cur.lastrowid
        assert interaction_id is not None  # an INSERT into a rowid table always sets it
        if new.body is not None:
            self.conn.execute(
                "INSERT INTO lo_note (interaction_id, text) VALUES (?, ?)", (interaction_id, new.body)
            )
        return interaction_id

    _INTERACTION_SELECT = (
        "SELECT i.interaction_id, i.cons_id, i.type_id, i.category_id, i.count, i.subject,"
        " i.created_by, i.creation_date, n.note_id, n.text"
        " FROM lo_interaction i LEFT JOIN lo_note n ON n.interaction_id = i.interaction_id"
    )

    def interaction(self, interaction_id: int) -> InteractionRecord | None:
        row = self.conn.execute(
            self._INTERACTION_SELECT + " WHERE i.interaction_id = ?", (interaction_id,)
        ).fetchone()
        return None if row is None else InteractionRecord(*row)

    def interactions_of(self, cons_id: int, limit: int, offset: int) -> list[InteractionRecord]:
        rows = self.conn.execute(
            self._INTERACTION_SELECT + " WHERE i.cons_id = ? ORDER BY i.interaction_id LIMIT ? OFFSET ?",
            (cons_id, limit, offset),
        )
        return [InteractionRecord(*r) for r in rows]

    # ---- groups ----

    def existing_groups(self, ids: Iterable[int]) -> list[int]:
        wanted = sorted({i for i in ids if i <= MAX_ROW_ID})
        found: list[int] = []
        # Chunks stay below SQLite's bound-parameter limit whatever the list length.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT group_id FROM lo_group WHERE group_id IN ({marks})", chunk)  # noqa: S608 (only placeholders are interpolated)
            found += [r[0] for r in rows]
        return sorted(found)

    def add_to_groups(self, cons_id: int, ids: Iterable[int]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO lo_membership (cons_id, group_id) VALUES (?, ?)",
            [(cons_id, g) for g in self.existing_groups(ids)],
        )

    def remove_from_groups(self, cons_id: int, ids: Iterable[int]) -> None:
        self.conn.executemany(
            "DELETE FROM lo_membership WHERE cons_id = ? AND group_id = ?",
            [(cons_id, g) for g in set(ids) if g <= MAX_ROW_ID],
        )

    def groups_of(self, cons_id: int) -> list[Group]:
        rows = self.conn.execute(
            "SELECT g.group_id, g.name FROM lo_membership m JOIN lo_group g ON g.group_id = m.group_id"
            " WHERE m.cons_id = ? ORDER BY g.group_id",
            (cons_id,),
        )
        return [Group(r[0], r[1]) for r in rows]
