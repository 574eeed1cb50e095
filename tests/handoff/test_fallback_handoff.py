"""Two misunderstandings in a row hand over to a person; what was said around a handoff does not count."""

from __future__ import annotations

from bot.conversation import consecutive_fallbacks, fallback_starts_handoff


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


BOT = {"event": "bot", "text": "..."}


def test_second_fallback_in_a_row_starts_the_handoff():
    assert not fallback_starts_handoff([user("greet"), user("nlu_fallback")])
    assert fallback_starts_handoff([user("nlu_fallback"), BOT, user("nlu_fallback")])


def test_a_third_fallback_asks_to_rephrase_and_a_fourth_tries_a_person_again():
    events = [user("nlu_fallback"), BOT] * 3
    assert consecutive_fallbacks(events) == 3 and not fallback_starts_handoff(events)
    assert fallback_starts_handoff([*events, user("nlu_fallback")])


def test_messages_written_to_an_agent_do_not_count_after_the_bot_resumes():
    events = [user("nlu_fallback"), {"event": "pause"}, user("nlu_fallback"), user("nlu_fallback"),
              {"event": "resume"}, user("nlu_fallback")]
    assert consecutive_fallbacks(events) == 1 and not fallback_starts_handoff(events)
