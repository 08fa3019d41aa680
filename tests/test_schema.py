"""The database the migrations build is the database the code was written for.

Alembic's autogenerate comparison between the migrated schema and ``storage.models`` finds no
difference, on SQLite and on PostgreSQL; the migrations go down to nothing and up again; and the
indexes the booking rules lean on (R7, R10) are really there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.clock import FixedClock
from core.enums import AppointmentSource, AppointmentStatus, OfferStatus, WaitlistStatus
from storage import migrate
from storage.db import Database
from storage.models import Base, Offer, WaitlistEntry
from tests import factories


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "target_metadata": Base.metadata})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _downgrade_to_base(connection: Connection) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def differences(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_differences)


async def tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_tables)


async def test_migrations_build_exactly_the_models(db: Database) -> None:
    """Every table, column, type, index and constraint of the models, and nothing else. The bot migrates on
    every start, so a second run on a current database must change nothing."""
    assert await differences(db) == []
    assert await tables(db) == set(Base.metadata.tables) | {"alembic_version"}
    await migrate.upgrade(db.engine)
    assert await differences(db) == []


async def test_downgrade_to_nothing_and_upgrade_again(sqlite_db: Database) -> None:
    """A release can be rolled back: down to an empty database, then up to the same schema again."""
    async with sqlite_db.engine.begin() as conn:
        await conn.run_sync(_downgrade_to_base)
    assert await tables(sqlite_db) == {"alembic_version"}

    await migrate.upgrade(sqlite_db.engine)
    assert await differences(sqlite_db) == []
    assert await tables(sqlite_db) == set(Base.metadata.tables) | {"alembic_version"}


async def test_the_database_itself_refuses_a_second_active_booking_or_offer_of_a_slot(db: Database,
                                                                                      clock: FixedClock) -> None:
    """R7, R10: the partial unique indexes allow any number of cancelled bookings (declined offers) of a
    slot, but only one active booking and one pending offer."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=1), 1)
    await factories.imported_appointment(db, slot, AppointmentSource.REGISTRY, clock.now(),
                                         status=AppointmentStatus.CANCELLED)
    await factories.imported_appointment(db, slot, AppointmentSource.REGISTRY, clock.now())
    with pytest.raises(IntegrityError):
        await factories.imported_appointment(db, slot, AppointmentSource.DOCTOR, clock.now())

    _, (anna,) = await factories.account(db, 7, clock.now())
    async with db.write() as uow:
        entry = await uow.waitlist.add(WaitlistEntry(
            patient_id=anna.id, account_id=anna.account_id, organization_id=doctor.organization_id,
            specialty_id=doctor.specialty_id, doctor_id=doctor.id, status=WaitlistStatus.WAITING,
            queued_at=clock.now()))
        for status in (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.PENDING):
            await uow.waitlist.add_offer(Offer(entry_id=entry.id, slot_id=slot.id, status=status,
                                               created_at=clock.now(), expires_at=clock.now()))
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with db.write() as uow:
            await uow.waitlist.add_offer(Offer(entry_id=entry.id, slot_id=slot.id, status=OfferStatus.PENDING,
                                               created_at=clock.now(), expires_at=clock.now()))
