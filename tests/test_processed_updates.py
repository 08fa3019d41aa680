"""A redelivered update acts once: claims on update ids, across instances (two Database objects)."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FixedClock
from storage.db import Database
from storage.repositories.updates import Claim
from tests.conftest import same_database

LEASE = timedelta(seconds=15)


async def claim(db: Database, update_id: int, instance: str, clock: FixedClock) -> Claim:
    async with db.write() as uow:
        result = await uow.updates.claim(update_id, instance, clock.now(), LEASE)
        await uow.commit()
    return result


async def test_one_instance_takes_an_update_and_a_redelivery_sees_it_done(db: Database, clock: FixedClock) -> None:
    other = await same_database(db)
    try:
        assert await claim(db, 7, "a", clock) is Claim.TAKEN
        assert await claim(other, 7, "b", clock) is Claim.BUSY  # in flight on "a"
        async with db.write() as uow:
            await uow.updates.finish(7, "a", clock.now())
            await uow.commit()
        clock.advance(LEASE * 10)
        assert await claim(other, 7, "b", clock) is Claim.DONE  # done stays done, however late
    finally:
        await other.dispose()


async def test_a_claim_its_holder_stopped_renewing_is_taken_over(db: Database, clock: FixedClock) -> None:
    assert await claim(db, 8, "a", clock) is Claim.TAKEN
    clock.advance(LEASE / 2)
    async with db.write() as uow:
        await uow.updates.renew(8, "a", clock.now())  # "a" is still working on it
        await uow.commit()
    clock.advance(LEASE * 0.9)
    assert await claim(db, 8, "b", clock) is Claim.BUSY
    clock.advance(LEASE)  # "a" died: no renewal for a whole lease
    assert await claim(db, 8, "b", clock) is Claim.TAKEN
    async with db.write() as uow:
        await uow.updates.finish(8, "a", clock.now())  # the late "a" no longer holds it
        await uow.commit()
    assert await claim(db, 8, "c", clock) is Claim.BUSY


async def test_a_released_claim_can_be_taken_again_and_old_rows_are_forgotten(db: Database,
                                                                             clock: FixedClock) -> None:
    assert await claim(db, 9, "a", clock) is Claim.TAKEN
    async with db.write() as uow:
        await uow.updates.release(9, "a")
        await uow.commit()
    assert await claim(db, 9, "b", clock) is Claim.TAKEN
    clock.advance(timedelta(days=2))
    assert await claim(db, 10, "b", clock) is Claim.TAKEN
    async with db.write() as uow:
        forgotten = await uow.updates.forget_before(clock.now() - timedelta(days=1))
        await uow.commit()
    assert forgotten == 1
    assert await claim(db, 10, "c", clock) is Claim.BUSY
