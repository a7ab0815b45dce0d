"""Requests for an action in the outside world that llmos cannot take: sending an email or a message, calling
someone, booking, buying, paying, posting online.

Asked "Can you send Mom an email saying we should go out and play if Friday is okay?", the 1.5B model answered
"Sure, I can send you an email." No tool of llmos sends, calls, books or pays: it works offline, with this
computer's files, programs and settings. So llmos says what it cannot do itself, and says that nothing was done;
where the request is a message to someone (an email, a text, a post), the model writes the message as a draft for
the person to send, and any sentence of its reply that claims the sending is left out.

The patterns take an action's verb with its object ("send Mom an email", "book me a ticket", "order a pizza",
"call my sister"), never a word alone: "the email folder", "sort in order", "the text of notes.txt" and "send the
logs to ~/Desktop" are no such request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class OutsideAction:
    """An action llmos cannot take, as llmos words it."""

    cannot: str
    """What llmos cannot do, after "I can't": "send email"."""
    reaches_no: str
    """The service it would need: "email or messaging service"."""
    nothing_done: str
    """The sentence that says nothing happened: "Nothing was sent."."""
    draft: bool
    """Whether the request is a message the model can write for the person to send."""


EMAIL = OutsideAction("send email", "email or messaging service", "Nothing was sent.", draft=True)
MESSAGE = OutsideAction("send messages", "email or messaging service", "Nothing was sent.", draft=True)
POST = OutsideAction("post online", "social network or website", "Nothing was posted.", draft=True)
CALL = OutsideAction("make phone calls", "phone or messaging service", "No call was made.", draft=False)
BOOKING = OutsideAction("book anything", "booking, shopping or payment service", "Nothing was booked.", draft=False)
PURCHASE = OutsideAction("buy or order anything", "booking, shopping or payment service", "Nothing was ordered.",
                         draft=False)
PAYMENT = OutsideAction("make payments", "bank or payment service", "Nothing was paid.", draft=False)

_POLITE = r"^\s*(?:(?:hey|hi|ok|okay|please|pls|can you|could you|would you|will you|i want you to|i need you to)" \
          r"[\s,]+)*"
_SOMEONE = r"(?!(?:the|a|an|all|every|each|this|that|these|those|it|them|me|out|in|on|up|down|off|for)\b)[\w'-]+"
"""A person's name or title after a verb ("Mom", "my sister", "Bob"), not an article or a particle."""

_PATTERNS: tuple[tuple[re.Pattern[str], OutsideAction], ...] = (
    # "send Mom an email", "send an email to Bob", "send emails", "email my boss that ..."
    (re.compile(r"\bsend\s+(?:(?:my\s+)?(?!me\b|us\b)[\w'-]+\s+)?(?:an?\s+)?e-?mails?\b", re.IGNORECASE), EMAIL),
    (re.compile(_POLITE + r"e-?mail\s+(?:my\s+)?" + _SOMEONE, re.IGNORECASE), EMAIL),
    # "send my sister a text", "send a message to Bob", "text Mom that I'm late", "whatsapp Dana"
    (re.compile(r"\bsend\s+(?:(?:my\s+)?(?!me\b|us\b)[\w'-]+\s+)?an?\s+(?:text(?:\s+message)?|message|sms|whatsapp|dm|"
                r"direct message)\b", re.IGNORECASE), MESSAGE),
    (re.compile(_POLITE + r"(?:text|message|sms|whatsapp|dm)\s+(?:my\s+)?" + _SOMEONE, re.IGNORECASE), MESSAGE),
    # "post this on twitter", "tweet that ...", "share it on facebook"
    (re.compile(r"\b(?:post|share|publish)\b.{0,60}?\b(?:on|to)\s+(?:twitter|x|facebook|instagram|linkedin|reddit|"
                r"mastodon|bluesky|threads|social media|my (?:feed|timeline|wall))\b|" + _POLITE + r"tweet\b",
                re.IGNORECASE), POST),
    # "call Mom", "phone my dad", "ring the dentist", "make a phone call to ..."
    (re.compile(_POLITE + r"(?:call|phone|ring|facetime|video call)\s+(?:my\s+|the\s+)?" + _SOMEONE +
                r"(?!\s*(?:\(|function|method|command|api|script))", re.IGNORECASE), CALL),
    (re.compile(r"\b(?:make|place)\s+an?\s+(?:phone\s+|video\s+)?call\b", re.IGNORECASE), CALL),
    # "book me a ticket from New York to New Delhi", "reserve a table for two", "book a hotel"
    (re.compile(r"\b(?:book|reserve)\s+(?:me\s+|us\s+|for\s+me\s+)?(?:an?\s+|the\s+|two\s+|\d+\s+)?(?:[\w-]+\s+){0,2}?"
                r"(?:tickets?|flights?|tables?|hotels?|rooms?|taxi|cab|uber|lyft|appointments?|seats?|trains?|"
                r"trips?|car|rental|holiday|vacation|restaurant)\b", re.IGNORECASE), BOOKING),
    # "buy me a new charger", "order a pizza", "order us some food", "purchase two licences"
    (re.compile(r"\b(?:buy|purchase)\s+(?:me\s+|us\s+)?(?:an?|some|the|\d+|two|three|new|more|tickets?)\b|"
                r"\border\s+(?:me\s+|us\s+)?(?:an?|some|\d+|two|three)\s+(?!(?:list|file|folder|director)\w*\b)"
                r"[\w-]+|\border\s+(?:me|us)\b", re.IGNORECASE), PURCHASE),
    # "pay my electricity bill", "pay the rent", "transfer 50 euros to Sam"
    (re.compile(r"\bpay\s+(?:my\s+|the\s+|our\s+)?(?:[\w-]+\s+)?(?:bill|bills|rent|invoice|fine|taxes|tax)\b|"
                r"\b(?:transfer|send|wire)\s+(?:\$|€|£)?\d[\d.,]*\s*(?:dollars|euros?|pounds|usd|eur|gbp|\$|€|£)?"
                r"\s+to\b", re.IGNORECASE), PAYMENT),
)

_ON_THIS_COMPUTER = re.compile(
    r"[~/\\]|\b[\w-]+\.[A-Za-z0-9]{1,5}\b|\b(?:files?|folders?|director(?:y|ies)|process(?:es)?|programs?|"
    r"scripts?|commands?|functions?|methods?|api|python|bash|shell|terminal|code)\b",
    re.IGNORECASE)
"""Words of this computer: "call the backup script", "order the files by size", "send the logs to ~/Desktop"
ask for something llmos may do (or explain), so the model plans them."""


def outside_action_asked(request: str) -> OutsideAction | None:
    """The outside action `request` asks llmos to take, or None when it asks none (or names files, programs or
    code of this computer, which the model may act on)."""
    if _ON_THIS_COMPUTER.search(request):
        return None
    for pattern, action in _PATTERNS:
        if pattern.search(request):
            return action
    return None


def cannot_answer(action: OutsideAction) -> str:
    """llmos's own words for `action`: what it cannot do, why, and that nothing happened."""
    return (f"I can't {action.cannot}: llmos works offline, with this computer's files, programs and settings, "
            f"and reaches no {action.reaches_no}. {action.nothing_done}")


DRAFT_NOTE = "(llmos cannot send it. Write the message itself, for me to send.)"
"""llmos's note under the request, when the model is to write the message as a draft."""

DRAFT_INTRO = "A draft you could send:"

_PIECE = re.compile(r"(?<=[.!?])(?=\s)|(?<=\n)")
"""Where a reply splits into sentences and lines, every character kept (a draft's blank lines stay)."""
_SPEAKS_OF_SENDING = re.compile(
    r"\b(?:i|i'll|i'd|i've|i'm|i can|i cannot|i can't|let me|sure|okay|of course|certainly)\b[^.!?\n]{0,40}?"
    r"\b(?:send|sent|sending|post|posted|posting|tweet|tweeted|deliver|delivered|forward|forwarded)\b"
    r"(?=[^.!?\n]*\b(?:e-?mails?|messages?|texts?|sms|tweets?|posts?|drafts?|it|this|that)\b)|"
    r"\b(?:has|have|was|were) been (?:sent|delivered|posted|e-?mailed|texted)\b",
    re.IGNORECASE)
"""A sentence of the assistant's about the sending itself ("Sure, I can send you an email.", "I can't send
emails, but"), not one of the message's own ("I'll send you the photos on Sunday" has no such object)."""
_INTRODUCES = re.compile(r"^\s*(?:here(?:'s| is| it is| you go)|below is|this is)\b[^:\n]{0,40}:", re.IGNORECASE)
"""Words that only introduce the message ("Here it is:", "Here's a draft: Hi Mom, ..."): llmos introduces it."""


def draft_text(reply: str) -> str:
    """The model's reply without the sentences that speak of sending it or only introduce it: llmos says that
    itself. Such a sentence keeps what follows its colon ("I can't send it, but here is a draft: Hi Mom, ...")."""
    kept: list[str] = []
    for piece in _PIECE.split(reply):
        if not (_SPEAKS_OF_SENDING.search(piece) or _INTRODUCES.match(piece)):
            kept.append(piece)
            continue
        _head, colon, rest = piece.partition(":")
        if colon and rest.strip() and not _SPEAKS_OF_SENDING.search(rest):
            kept.append(rest)
    return "".join(kept).strip()


def with_draft(action: OutsideAction, reply: str) -> str:
    """The answer to a request for a message llmos cannot send: what it cannot do, then the model's draft."""
    draft = draft_text(reply)
    return f"{cannot_answer(action)}\n{DRAFT_INTRO}\n{draft}" if draft else cannot_answer(action)
