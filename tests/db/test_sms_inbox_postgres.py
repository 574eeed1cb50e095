"""The SMS inbox tests (tests/channels/sms/test_inbox.py) on PostgreSQL: claims stay single under real concurrency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.future import Engine

from bot.db import make_engine
from tests.channels.sms.test_inbox import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_held_row_is_taken_over_only_once_its_lease_has_run_out,
    test_a_provider_message_id_is_accepted_once,
    test_a_released_row_is_tried_again_after_the_lease,
    test_a_renewed_lease_keeps_a_slow_turn_with_its_process,
    test_a_row_taken_over_can_no_longer_be_answered_nor_renewed_by_its_old_holder,
    test_a_row_that_keeps_failing_is_given_up_after_max_attempts,
    test_an_answered_row_forgets_its_text_and_is_never_recovered,
    test_concurrent_recoveries_never_claim_one_row_twice,
    test_parts_of_one_conversation_are_taken_together_in_written_order,
    test_purge_deletes_finished_rows_after_the_retention_and_keeps_pending_ones,
    test_the_inbox_keeps_the_pseudonym_a_hashed_provider_id_and_an_encrypted_text,
)


@pytest.fixture
def inbox_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    assert engine.dialect.name == "postgresql"
    yield engine
    engine.dispose()
