"""The one-question satisfaction survey asked when an agent ends a conversation with a resident.

One plain question with three answers (oui, en partie, non): buttons in the web chat, "Répondez 1, 2 ou 3" by
SMS. Answering is optional and never blocks: any other message goes on to the bot as usual. The answer is kept
once, linked to the request (so to the agent who handled it), never to the person.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, and_, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.future import Engine

from bot.db import ensure_schema, get_engine, metadata
from bot.handoff.config import get_handoff_config
from bot.handoff.rasa_api import RasaClient, RasaUnavailableError
from bot.handoff.store import CLOSED_BY_AGENT, PUSHED, HandoffRequest, project_engine, requests_table, utcnow
from bot.handoff.transcript import SYSTEM_AUTHOR
from bot.text import fold

logger = logging.getLogger(__name__)

surveys_table = Table(
    "handoff_surveys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False,
           unique=True),  # one question per conversation with a person, so one answer at most
    Column("channel", String(64), nullable=False),
    Column("asked_at", DateTime, nullable=False),
    Column("answer", Integer),  # 1 oui, 2 en partie, 3 non; None: not answered
    Column("answered_at", DateTime),
    Column("dismissed_at", DateTime),  # by SMS: the person wrote something else, so a later "1" is a menu choice
)

YES, PARTLY, NO = 1, 2, 3
ANSWER_LABELS = {YES: "Oui", PARTLY: "En partie", NO: "Non"}
QUESTION = "Avez-vous obtenu l'aide dont vous aviez besoin ?"
SMS_QUESTION = f"{QUESTION} Répondez 1 pour oui, 2 pour en partie, 3 pour non. C'est facultatif."
THANKS = "Merci pour votre réponse ! Elle nous aide à améliorer le service."
ALREADY_ANSWERED = "Merci, votre réponse est déjà enregistrée."
TOO_LATE = "Merci ! Cette question n'est plus ouverte. Écrivez votre question si vous avez besoin d'aide."
PAYLOAD_PREFIX = "/handoff_survey_"
SURVEY_CHANNELS = frozenset({"webchat", "sms"})  # channels that can show the question when the agent closes
WEB_WINDOW = timedelta(hours=24)  # a button clicked the next morning still counts
SMS_WINDOW = timedelta(hours=2)  # by SMS a lone "1" much later is more likely a menu choice
_PAYLOAD = re.compile(r"/handoff_survey_([1-3])")
_SMS_WORDS = {"1": YES, "2": PARTLY, "3": NO, "oui": YES, "en partie": PARTLY, "non": NO}


def survey_enabled() -> bool:
    """The survey is on unless NUMECRIVAIN_HANDOFF_SURVEY=0 (a council may choose not to ask)."""
    return get_handoff_config().survey


def web_buttons() -> list[dict[str, str]]:
    """The three answers as widget buttons (their payloads are read by the channel, never by the NLU)."""
    return [{"title": label, "payload": f"{PAYLOAD_PREFIX}{value}"} for value, label in ANSWER_LABELS.items()]


def answer_in_payload(payload: str) -> int | None:
    """The answer a survey button stands for, or None when the text is not one."""
    match = _PAYLOAD.fullmatch(payload.strip()) if isinstance(payload, str) and len(payload) < 40 else None
    return int(match.group(1)) if match else None


def answer_in_sms(text: str) -> int | None:
    """The answer in an SMS that is only '1', '2', '3', 'oui', 'en partie' or 'non' (accents and case ignored)."""
    if len(text) > 40:
        return None
    return _SMS_WORDS.get(" ".join(fold(text).split()).strip(" .!?,;:'\"()"))


@dataclass(frozen=True)
class SurveyCounts:
    """Asked and answered surveys of a day, a channel or an agent."""

    asked: int = 0
    yes: int = 0
    partly: int = 0
    no: int = 0

    @property
    def answered(self) -> int:
        return self.yes + self.partly + self.no

    def plus(self, answer: int | None) -> SurveyCounts:
        """These counts with one more survey asked (and its answer, if any)."""
        return SurveyCounts(self.asked + 1, self.yes + (answer == YES), self.partly + (answer == PARTLY),
                            self.no + (answer == NO))


@dataclass(frozen=True)
class AgentSatisfaction:
    """Survey results of the conversations one agent ended (for admins only)."""

    login: str
    display_name: str
    counts: SurveyCounts


def _utc_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    low = datetime.combine(start, datetime.min.time(), zone).astimezone(timezone.utc).replace(tzinfo=None)
    high = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(timezone.utc)
    return low, high.replace(tzinfo=None)


class SurveyBook:
    """The surveys of one database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)

    def mark_asked(self, request: HandoffRequest, now: datetime | None = None) -> bool:
        """Note that the question goes to this conversation; False when it was asked already."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(surveys_table).values(request_id=request.id, channel=request.channel,
                                                          asked_at=now or utcnow()))
        except IntegrityError:
            return False
        return True

    def forget_asked(self, request_id: int) -> None:
        """The question could not be delivered: it does not count as asked."""
        with self.engine.begin() as conn:
            conn.execute(delete(surveys_table).where(surveys_table.c.request_id == request_id,
                                                     surveys_table.c.answer.is_(None)))

    def _latest(self, sender_id: str, since: datetime) -> Row | None:
        """The survey of the conversation's latest request, when asked after `since`."""
        with self.engine.connect() as conn:
            latest = conn.execute(select(requests_table.c.id).where(requests_table.c.sender_id == sender_id)
                                  .order_by(requests_table.c.id.desc()).limit(1)).scalar()
            if latest is None:
                return None
            return conn.execute(select(surveys_table).where(surveys_table.c.request_id == latest,
                                                            surveys_table.c.asked_at >= since)).first()

    def answer(self, sender_id: str, answer: int, now: datetime | None = None, window: timedelta = WEB_WINDOW) -> str:
        """Record the answer once; the sentence to say back (thanks, already answered, or too late)."""
        now = now or utcnow()
        survey = self._latest(sender_id, now - window)
        if survey is None or survey.dismissed_at is not None:
            return TOO_LATE
        with self.engine.begin() as conn:
            result = conn.execute(update(surveys_table).where(surveys_table.c.id == survey.id,
                                                              surveys_table.c.answer.is_(None))
                                  .values(answer=answer, answered_at=now))
        return THANKS if result.rowcount == 1 else ALREADY_ANSWERED

    def answer_sms(self, sender_id: str, text: str, now: datetime | None = None) -> str | None:
        """By SMS: the thanks when this message answers an open question; otherwise None, and the question is
        closed (the person has moved on: their next '1' is a menu choice)."""
        now = now or utcnow()
        survey = self._latest(sender_id, now - SMS_WINDOW)
        if survey is None or survey.answer is not None or survey.dismissed_at is not None:
            return None
        answer = answer_in_sms(text)
        if answer is None:
            with self.engine.begin() as conn:
                conn.execute(update(surveys_table).where(surveys_table.c.id == survey.id,
                                                         surveys_table.c.answer.is_(None))
                             .values(dismissed_at=now))
            return None
        return self.answer(sender_id, answer, now, SMS_WINDOW)

    def _rows(self, start: date, end: date, tz: str) -> Sequence[Row]:
        low, high = _utc_bounds(start, end, ZoneInfo(tz))
        with self.engine.connect() as conn:
            return conn.execute(
                select(surveys_table.c.answer, requests_table.c.channel, requests_table.c.requested_at,
                       requests_table.c.agent_name, requests_table.c.agent_display_name)
                .select_from(surveys_table.join(requests_table, surveys_table.c.request_id == requests_table.c.id))
                .where(and_(requests_table.c.requested_at >= low, requests_table.c.requested_at < high))
            ).all()

    def by_day_and_channel(self, start: date, end: date, tz: str = "Europe/Paris") -> dict[tuple[date, str],
                                                                                             SurveyCounts]:
        """Counts per local day of the request and channel (the same days as the service figures)."""
        zone = ZoneInfo(tz)
        counts: dict[tuple[date, str], SurveyCounts] = {}
        for row in self._rows(start, end, tz):
            day = row.requested_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
            counts[(day, row.channel)] = counts.get((day, row.channel), SurveyCounts()).plus(row.answer)
        return counts

    def by_agent(self, start: date, end: date, tz: str = "Europe/Paris") -> list[AgentSatisfaction]:
        """Counts per agent who ended the conversation, by display name (admins only may see them)."""
        counts: dict[str, SurveyCounts] = {}
        names: dict[str, str] = {}
        for row in self._rows(start, end, tz):
            login = row.agent_name or "?"
            counts[login] = counts.get(login, SurveyCounts()).plus(row.answer)
            names[login] = row.agent_display_name or login
        return [AgentSatisfaction(login, names[login], counts[login])
                for login in sorted(counts, key=lambda name: names[name].casefold())]


async def ask_after_close(rasa: RasaClient, book: SurveyBook, request: HandoffRequest) -> bool:
    """Ask the question after the agent's goodbye; True when it reached the person's channel.

    Only for conversations an agent ended (not expired ones) in channels that push messages. A failed delivery
    is not retried: the survey must never get in the person's way."""
    if not survey_enabled() or request.close_reason != CLOSED_BY_AGENT or request.channel not in SURVEY_CHANNELS:
        return False
    if not await asyncio.to_thread(book.mark_asked, request):
        return False
    text, buttons = (SMS_QUESTION, None) if request.channel == "sms" else (QUESTION, web_buttons())
    try:
        delivery = await rasa.relay(request.channel, request.sender_id, text, SYSTEM_AUTHOR, buttons=buttons)
    except RasaUnavailableError as exc:
        logger.info("Satisfaction question of request %s not delivered (%s).", request.id, exc)
        delivery = None
    if delivery != PUSHED:
        await asyncio.to_thread(book.forget_asked, request.id)
        return False
    return True


async def reply_to_button(sender_id: str, payload: str, engine: Engine | None = None) -> str | None:
    """For the web chat: the sentence to show when this click answers the survey, None when it is no survey."""
    answer = answer_in_payload(payload)
    if answer is None:
        return None

    def record() -> str:
        return SurveyBook(engine or get_engine()).answer(sender_id, answer)

    return await asyncio.to_thread(record)


def sms_answerer(engine: Engine) -> Callable[[str, str, datetime], str | None]:
    """For the SMS channel: (pseudonym, text, now) -> the thanks when the text answers the survey, else None.

    A database error only means no survey this time: the message goes on to the bot."""
    book: SurveyBook | None = None

    def answer(pseudonym: str, text: str, now: datetime) -> str | None:
        nonlocal book
        try:
            book = book or SurveyBook(engine)
            return book.answer_sms(pseudonym, text, now)
        except SQLAlchemyError as exc:
            logger.warning("SMS survey answer not read (%s); the message goes to the bot.", type(exc).__name__)
            return None

    return answer


__all__ = ["ANSWER_LABELS", "QUESTION", "SMS_QUESTION", "THANKS", "AgentSatisfaction", "SurveyBook", "SurveyCounts",
           "ask_after_close", "reply_to_button", "sms_answerer", "surveys_table", "web_buttons"]
