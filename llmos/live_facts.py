"""Requests for live facts of the outside world, which llmos cannot know: it works offline, on this computer.

Asked "what's the weather in Paris right now?", the 1.5B model answered "The weather in Paris is currently
sunny."; asked "What is the current bitcoin price?", it listed this computer's processes and answered with them.
Neither answer can be right: no tool of llmos reaches the weather, a market or the news, and the model's own
knowledge stops at its training. Such a request is answered by llmos itself, saying what it cannot check and why.

Only a request about the weather, a market price or the news, that names nothing of this computer (its files,
folders or hardware: "the CPU temperature", "the price column of prices.csv", "my newsletter.txt") and has no
piped data (which may hold the answer) is answered so; any other goes to the model as before. Questions of
knowledge that does not change ("who painted the Mona Lisa?") stay the model's.
"""

from __future__ import annotations

import re

_WEATHER = re.compile(
    r"\b(?:weather|forecast|(?:will it|going to|gonna) (?:rain|snow)|is it (?:raining|snowing|sunny|cloudy|windy) "
    r"(?:in|at|outside)|"
    r"temperature outside|outside temperature|umbrella (?:today|tomorrow))\b",
    re.IGNORECASE)
_MARKET_THING = re.compile(
    r"\b(?:bitcoin|btc|ethereum|eth|crypto\w*|dogecoin|stocks?|shares?|share price|stock market|nasdaq|dow jones|"
    r"s&p|ftse|dax|nikkei|gold|silver|oil|gas prices?|petrol|exchange rate|euro|dollars?|usd|eur|gbp|yen|pounds? "
    r"sterling)\b",
    re.IGNORECASE)
_PRICE = re.compile(r"\b(?:price|prices|priced|cost|costs|worth|value|trading|rate|quote|how much is|how much are)\b",
                    re.IGNORECASE)
_NEWS = re.compile(r"\b(?:news|headlines?|breaking|what(?:'s| is) happening in the world)\b", re.IGNORECASE)
_THIS_COMPUTER = re.compile(
    r"[~/\\]|\b[\w-]+\.[A-Za-z0-9]{1,5}\b|\b(?:files?|folders?|director(?:y|ies)|documents?|downloads|desktop|"
    r"notes?|newsletters?|emails?|mails?|inbox|logs?|spreadsheets?|csv|column|rows?|table|reports?|my|cpu|gpu|"
    r"processor|disk|drive|battery|laptop|computer|machine|sensors?|fans?|server|app|program)\b",
    re.IGNORECASE)
"""Words of this computer and what is on it: a request that uses one may be about a file or the hardware. "my"
is among them: "my stocks" may be a file of them, and the model can look."""


def live_fact_asked(request: str) -> str | None:
    """What live fact of the outside world `request` asks for ("the weather", "market prices", "the news"), or
    None when it asks for none, or names something of this computer."""
    if _THIS_COMPUTER.search(request):
        return None
    if _WEATHER.search(request):
        return "the weather"
    if _MARKET_THING.search(request) and _PRICE.search(request):
        return "market prices"
    if _NEWS.search(request):
        return "the news"
    return None


WHERE_TO_LOOK = {"the weather": "a weather service", "market prices": "a market or exchange site",
                 "the news": "a news site"}


def offline_answer(fact: str) -> str:
    """llmos's answer to a request for `fact` (from `live_fact_asked`)."""
    return (f"I can't check {fact}: llmos works offline, with this computer's files, programs and settings, and "
            f"nothing it can reach knows {fact}. {WHERE_TO_LOOK[fact].capitalize()} will have it.")
