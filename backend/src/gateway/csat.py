"""CSAT: the one-tap rating (1-5) a web borrower is asked for when a conversation ends (the bot
said goodbye, or an agent closed it), stored once in `csat_ratings` and sent on the analytics
stream as the `csat` gateway event the facts read (docs/insights.md).

A row is written when the rating is asked; its score once the borrower gives it. Rating is a
single conditional UPDATE (`score IS NULL`), so a second rating, from another tab or a retry,
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .db import Conversation, CsatRating

SCORES = range(1, 6)
ASKED, RATED = "asked", "rated"
CSAT_CHANNELS = ("web",)  # only the widget shows the rating


def score_problem(body: Any) -> str | None:
    """Why a rating's body is refused (None when it is `{"score": 1..5}`)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = sorted(str(k)[:40] for k in body if k != "score")
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    score = body.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or score not in SCORES:
        return "score must be a whole number from 1 to 5"
    return None


async def ask(s: AsyncSession, conv: Conversation, because: str, now: datetime) -> bool:
    """Ask for a rating of this conversation, unless it was rated already; whether it is asked."""
    if conv.channel not in CSAT_CHANNELS:
        return False
    row = await s.get(CsatRating, conv.id)
    if row is None:
        s.add(CsatRating(conversation_id=conv.id, rasa_sender_id=conv.rasa_sender, asked_because=because, asked_at=now))
        await s.flush()
        return True
    return row.score is None


async def state_of(s: AsyncSession, conversation_id: str) -> str | None:
    """`asked` (waiting for the borrower's tap), `rated`, or None (never asked)."""
    score = (
        await s.execute(select(CsatRating.score).where(CsatRating.conversation_id == conversation_id))
    ).one_or_none()
    if score is None:
        return None
    return ASKED if score[0] is None else RATED


async def rate(s: AsyncSession, conversation_id: str, score: int, now: datetime) -> str:
    """Store the score once: `rated`, or why not (`not_asked`, `already_rated`)."""
    done = await s.execute(
        update(CsatRating)
        .where(CsatRating.conversation_id == conversation_id, CsatRating.score.is_(None))
        .values(score=score, rated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], done).rowcount == 1:
        return RATED
    return "already_rated" if await state_of(s, conversation_id) == RATED else "not_asked"
