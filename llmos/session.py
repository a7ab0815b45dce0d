"""The one agent loop behind every surface: plan a call -> policy -> execute -> observe, until the model answers.

A `Session` yields typed events and never prints; front ends render them and answer approval requests through
the `approver` callback. Tool output and stdin reach the model delimited and labelled as data.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llmos.answers import grounded_answer
from llmos.answers._result import parsed_result
from llmos.answers.change_answers import changes_text, misplaced_paths
from llmos.answers.lookup import lookup_answer, query_answer
from llmos.answers.off_question import off_question_note
from llmos.answers.outcomes import with_asked_count, with_outcome
from llmos.destination_grounding import (
    DESTINATION_ARGUMENT,
    destinations_left,
    ground_destination,
    spelled_destinations,
)
from llmos.effects import Effect
from llmos.errors import ModelLoadError
from llmos.events import (
    Answer,
    AnswerSource,
    AnswerStarted,
    AnswerToken,
    Error,
    Event,
    RequestFinished,
    RequestStarted,
    Step,
    StepInProgress,
    StepPlanned,
)
from llmos.examples.library import PlanExample
from llmos.examples.retrieval import library_index
from llmos.executor import Approver, Safety, StepRunner, new_request_id
from llmos.fastpath import match_fast_path
from llmos.filter_grounding import ground_in_words
from llmos.found_rest import rest_owed
from llmos.learning import LearnedPlan, PlanMemory, PlannedCall
from llmos.live_facts import live_fact_asked, offline_answer
from llmos.look_first import (
    MAX_FOUND_CHOICES,
    asks_about_the_file_itself,
    asks_for_content,
    asks_for_line_count,
    found_files,
    names_own_things,
)
from llmos.look_instead import FIND_TOOL, SEARCH_TOOL, look_instead
from llmos.mode_grounding import ground_mode
from llmos.models.backend import Backend
from llmos.models.grammar import call_schema
from llmos.models.prompt import OMITTED_RESULT, Turn, build_prefix, render_conversation, user_request
from llmos.outside_actions import DRAFT_NOTE, OutsideAction, cannot_answer, outside_action_asked, with_draft
from llmos.pid_grounding import ground_pid, request_pids, result_pids
from llmos.place_grounding import ground_place, named_place, place_choices, place_names
from llmos.planted import set_aside
from llmos.policies.change_words import CLAUSE_CHANGE_VERBS, words_pattern
from llmos.policies.decision import Policy
from llmos.policies.impact import Impact
from llmos.policies.intent import url_to_send_to
from llmos.policies.requested_command import requested_commands
from llmos.repair import EDIT_TOOL, READ_TOOL, PathRepair, path_repair, sure_repair
from llmos.routing import for_edits_in_place, on_topic
from llmos.self_description import asks_what_llmos_does, self_description
from llmos.streaming import AnswerStreamer
from llmos.tools.files import mentioned_word
from llmos.tools.named_paths import named_places, places_note, spelled_files, unnamed_paths, untouched_paths
from llmos.tools.piped import DocumentView, PipedDocument, PipedTable, piped_tools, stdin_excerpt
from llmos.tools.piped.digest import NOTE_HEADING, findings_answer, findings_text, log_findings
from llmos.tools.registry import Registry, ToolSpec
from llmos.words import clause_break

ANSWER_TOOL = "answer"
SHELL_TOOL = "shell.run"
STDIN_TOOL_PREFIX = "stdin."
SQL_TOOL = "stdin.sql"
CANCELLED_MESSAGE = "cancelled"
"""The Error message of a cancelled request (front ends that show the cancel their own way skip it)."""
CHANGE_CLAUSE = re.compile(
    r"(?:^|" + clause_break(",;.?!:") + r"|\b(?:and|then|please))\s*(?:then\s+|please\s+)?"
    + words_pattern(CLAUSE_CHANGE_VERBS) + r"\b",
    re.IGNORECASE,
)
"""A clause that tells llmos to make a change ("archive X, then delete it", "count them and write the number to
Y", "which one is the biggest? delete that one"). The intent table's words are broader on purpose (safety
gating): "which files were modified" or "what are the permissions on x" use change words without asking for a
change, and their look may be answered at once."""
SEQUENCED_CHANGE = re.compile(
    r"(?:^|" + clause_break(",;.?!:") + r"|\bthen)\s*(?:please\s+)?" + words_pattern(CLAUSE_CHANGE_VERBS) + r"\b",
    re.IGNORECASE)
"""A change given as a step of its own: first in the request, after a comma or a sentence's end, or after "then"
("copy X to X.bak, then change Y"; "find the scripts, set them to 755"). The clause checklist counts these, not
every change clause: counting "make budget.csv private so only I can read and write it" as two changes withheld the
answer after the chmod, and the model overwrote the budget with rows it made up."""
CHANGE_EFFECTS = frozenset({Effect.WRITE, Effect.DELETE})
"""Effects a request's words can ask for that the model must not claim without a call (see `_change_still_owed`)."""
STDIN_RESULT_ROOM_TOKENS = 700
"""Context kept free beside piped data's excerpt for the calls a request makes and the latest result."""
MIN_STDIN_BUDGET_TOKENS = 64
"""The smallest excerpt budget: the note saying what was left out, and that the stdin tools read all of it."""
MAX_CLAUSE_NUDGES = 2
"""Turns at most per request whose `answer` is withheld because a clause of the request has no step yet."""
GeneratedCall = tuple[str, dict[str, Any], str]
"""One model reply made a call: (tool name, validated args, the reply text exactly as generated)."""

@dataclass(frozen=True)
class SessionOptions:
    max_steps: int = 6
    """Most tool calls per request; after them the model must answer with what it has."""
    dry_run: bool = False
    """Plan only: read tools run (they change nothing), every other call is shown and skipped."""
    result_budget_chars: int = 2000
    """A tool result longer than this is shrunk (with the cut said) before the model reads it."""
    stdin_budget_chars: int = 6000
    """Most characters of piped data the prompt shows; a longer input is shown as an excerpt (`stdin_excerpt`)."""
    stdin_budget_tokens: int = 1024
    """Most tokens of piped data the prompt shows, less when the context has less room (counted in the model's
    tokens: digit-heavy lines take far more of them than their characters suggest)."""
    max_tokens: int = 400
    """Cap on the tokens of one model reply (a call, or the answer)."""
    examples: int = 0
    """Examples from the planner's library (`llmos.examples`) most like the request shown before it; front ends
    set it from the config (`planner_examples`)."""
    fast_path: bool = False
    """Plan and answer the most common unambiguous requests without the model (`llmos.fastpath`); front ends
    turn it on from the config (`fast_path`, on by default)."""
    places: bool = False
    """Show the model where the request's names are in the home folder (`llmos.tools.named_paths`); front ends
    turn it on (a bare session, as tests make, does not look around whatever $HOME it runs in)."""


class Session:
    """Runs requests against one loaded model, one tool registry and one policy."""

    def __init__(
        self,
        backend: Backend,
        registry: Registry,
        safety: Safety | Policy,
        options: SessionOptions | None = None,
        memory: PlanMemory | None = None,
    ):
        self.backend = backend
        self.registry = registry
        self.safety = safety if isinstance(safety, Safety) else Safety(policy=safety)
        self.options = options or SessionOptions()
        self.memory = memory
        """Plans a person approved (`learn_from_approvals`): kept after a request, offered as an example before one."""
        self._load_ms_reported = 0.0
        """A lazily loaded backend reports its load time once loaded: on the request that paid for it."""
        self._prefixes: dict[tuple[str, ...], tuple[str, int]] = {}

    def tools_for(self, allowed_effects: frozenset[Effect] | None, piped: Sequence[ToolSpec] = ()) -> list[ToolSpec]:
        """The tools a request may use: `answer` and those of the effect classes its words asked for. `piped`
        (the stdin tools of a request with piped data) come right after `answer`: the small model picks among
        the first tools it reads."""
        specs = self.registry.specs()
        if allowed_effects is not None:
            specs = [spec for spec in specs if spec.name == ANSWER_TOOL or spec.effect in allowed_effects]
            piped = [spec for spec in piped if spec.effect in allowed_effects]
        if not piped:
            return specs
        after_answer = next((index + 1 for index, spec in enumerate(specs) if spec.name == ANSWER_TOOL), 0)
        return [*specs[:after_answer], *piped, *specs[after_answer:]]

    def prefix_for(self, tools: list[ToolSpec]) -> tuple[str, int]:
        """The static prompt prefix listing `tools`, and its token count. There is one prefix per tool set
        (a read-only request's prompt never mentions delete or kill), each built and counted once; the
        backend caches each one's KV state."""
        key = tuple(spec.name for spec in tools)
        if key not in self._prefixes:
            prefix = build_prefix([spec.signature_line() for spec in tools])
            self._prefixes[key] = (prefix, self.backend.count_tokens(prefix))
        return self._prefixes[key]

    @property
    def prefix(self) -> str:
        """The prefix of a request that may use every tool."""
        return self.prefix_for(self.registry.specs())[0]

    def run(
        self,
        request: str,
        stdin_data: str | PipedDocument | None = None,
        approver: Approver | None = None,
        *,
        cancel: threading.Event | None = None,
        options: SessionOptions | None = None,
    ) -> Iterator[Event]:
        """Handle one request; the last event is always a `RequestFinished`.

        `stdin_data` is piped data: a `PipedDocument` (its owner closes it) or text. Setting `cancel` (from any
        thread) stops the request at the next generated token or between steps: the model stops generating, no
        further step starts, and a step already running finishes and is journaled. `options` override the
        session's for this request only (the daemon serves clients with their own)."""
        if isinstance(stdin_data, str):
            with PipedDocument.from_text(stdin_data) as document:
                yield from self.run(request, document, approver, cancel=cancel, options=options)
            return
        started = time.perf_counter()
        yield RequestStarted(request=request, has_stdin_data=stdin_data is not None)
        run = _RequestRun(self, request, stdin_data, approver, cancel or threading.Event(), options or self.options)
        error: str | None = None
        cancelled = False
        try:
            yield from run.loop()
        except ModelLoadError:
            raise  # the session's model cannot load: a setup error, said as when it failed up front (exit 2)
        except _Cancelled:
            cancelled = True
            error = CANCELLED_MESSAGE
            yield Error(error)
        except Exception as exc:  # noqa: BLE001  the backend's failures end the request readably
            error = f"model failed: {exc}"
            yield Error(error)
        finally:
            if run.stdin_table is not None:
                run.stdin_table.close()  # its temporary database goes with the request
        load_ms = self.backend.load_ms - self._load_ms_reported
        self._load_ms_reported = self.backend.load_ms
        timings = {
            "load": round(load_ms),
            "plan": round(run.plan_ms),
            "total": round((time.perf_counter() - started) * 1000),
        }
        if run.first_call_at is not None:
            # Request to first planned tool call: what a person waits before anything happens.
            timings["first_call"] = round((run.first_call_at - started) * 1000)
        outcome = RequestFinished(
            request=request,
            ok=error is None and run.answer is not None and not run.failed,
            answer=run.answer,
            steps=[step.snapshot() for step in run.steps],
            model=self.backend.name,
            timings_ms=timings,
            usage=run.usage,
            error=error or run.failure_message,
            cancelled=cancelled,
            fast_path=run.answered_by_fast_path,
            answer_source=run.answer_source,
            ungrounded=run.ungrounded,
        )
        # Before the yield: a front end may stop iterating at the last event, and nothing after it would run.
        self._remember(outcome, run, stdin_data)
        yield outcome

    def _remember(self, outcome: RequestFinished, run: _RequestRun, stdin_data: PipedDocument | None) -> None:
        """Keep the plan if a person approved it (learning on only). Never a request with piped data: its
        calls depended on data that is not kept."""
        if self.memory is None or stdin_data is not None:
            return
        try:
            self.memory.record(outcome, run.generated_calls, [spec.name for spec in run.tools])
        except OSError:
            pass  # learning is a help: a read-only data dir must not fail a request that succeeded


class _Cancelled(Exception):
    """The person cancelled the request (Ctrl+C in a front end, or a daemon client went away)."""


class _RequestRun:
    """The state of one request while it runs: turns so far, steps, usage."""

    def __init__(
        self,
        session: Session,
        request: str,
        document: PipedDocument | None,
        approver: Approver | None,
        cancel: threading.Event,
        options: SessionOptions,
    ):
        self.session = session
        self.request = request
        self.has_stdin_data = document is not None
        self.options = options
        self.cancel = cancel
        safety = session.safety
        # Decided from the request's own words, before any file, stdin or command output is read: content the
        # tools bring back can never widen what this request may do.
        self.allowed_effects = safety.intent(request) if safety.intent else None
        # Piped data is read redacted, as a whole: every excerpt and stdin tool result leaves stored secrets out.
        self.stdin_view = DocumentView(document, safety.redact) if document is not None else None
        self.stdin_table = PipedTable.of(self.stdin_view) if self.stdin_view is not None else None
        """The piped data as a table `stdin.sql` queries, when it is one."""
        self.stdin_findings: list[str] | None = None
        self.tools = for_edits_in_place(request, on_topic(request, session.tools_for(
            self.allowed_effects, piped_tools(self.stdin_view) if self.stdin_view is not None else ())))
        self._specs = {spec.name: spec for spec in self.tools}
        self.steps_runner = StepRunner(
            safety,
            request_id=new_request_id(),
            request=request,
            allowed_effects=self.allowed_effects,
            approver=approver,
            dry_run=self.options.dry_run,
            result_budget_chars=self.options.result_budget_chars,
        )
        # A kept plan for a similar request goes after the static prefix, so the prefix's cached KV stays valid.
        self.example: LearnedPlan | None = self._similar_plan(request)
        self.turns: list[Turn] = [turn for example in self._library_examples(request, piped=document is not None)
                                  for turn in example.example_turns()]
        if self.example is not None:
            self.turns.extend(self.example.example_turns())
        self.request_turn_index = len(self.turns)
        self.stdin_budget_tokens: int | None = None
        """The token budget the piped data's excerpt was made for (None: no piped data, or not yet made)."""
        self.stdin_seen: str | None = None
        self.stdin_cut = False
        """The model was shown an excerpt of the piped data, not all of it."""
        """The piped data as the model read it (whole, or its excerpt): facts it states from there are grounded."""
        self.generated_calls: list[PlannedCall] = []
        """Each step's call as the model wrote it (before defaults were filled in), for learning."""
        self.steps: list[StepInProgress] = []
        self.answer: str | None = None
        self.failed = False
        self.failure_message: str | None = None
        self.plan_ms = 0.0
        self.first_call_at: float | None = None
        self.usage = {"prompt_tokens": 0, "cached_tokens": 0, "generated_tokens": 0}
        self.answered_by_fast_path = False
        self.answer_source: AnswerSource | None = None
        self.ungrounded: list[str] = []
        self.tells_a_change = bool(self.allowed_effects is not None and self.allowed_effects & CHANGE_EFFECTS
                                   and CHANGE_CLAUSE.search(request))
        """The request's words allow a change and one of its clauses starts with a change verb."""
        self.change_nudged = False
        self.clause_nudges = 0
        """Turns whose `answer` was withheld for a clause without a step (`_clause_still_owed`)."""
        self.repair: PathRepair | None = None
        """The next turn remakes a failed call with a path that exists (`llmos.repair`), or answers."""
        self.repaired = False
        """A repair turn was offered: once per request."""
        self.rest_turns = 0
        """Turns offered to change the rest of a group of found files (`llmos.found_rest`)."""
        self.look_again: str | None = None
        """The tool of a call that was not run because a look was what it meant (`llmos.look_instead`): the next
        turn plans again, offered the looks but that one, and no answer yet."""
        self.looked_again = False
        """Such a turn was offered: once per request."""
        self.read_offered = False
        """A read of found files was required (`_read_owed`): once per request."""
        self.search_offered = False
        """A search for the lines of a word found in files' text was required (`_search_owed`): once."""
        self.asked_again = False
        """An answer about a read file's size instead of the question was sent back (`llmos.answers.off_question`):
        once per request."""
        self.places_note: str | None | Literal[False] = False
        """llmos's note of where the request's names are (False: not looked for yet)."""
        self.drafting: OutsideAction | None = None
        """A message llmos cannot send, which the model writes as a draft (`llmos.outside_actions`)."""

    # The prefix is counted in the model's tokens: only a request the model plans needs it (and loads the model).
    @property
    def prefix(self) -> str:
        return self.session.prefix_for(self.tools)[0]

    @property
    def prefix_tokens(self) -> int:
        return self.session.prefix_for(self.tools)[1]

    def loop(self) -> Iterator[Event]:
        # Made here, not in __init__: fitting piped data to the context counts tokens, which loads the model.
        if (yield from self._refuse_named_command()):
            return
        if (yield from self._refuse_sending()):
            return
        if (yield from self._answer_live_fact()):
            return
        if (yield from self._answer_outside_action()):
            return
        if (yield from self._describe_llmos()):
            return
        if (yield from self._fast_path()):
            return
        # After the fast path: the request's turn may look around the home folder (`_places_note`).
        self.turns.insert(self.request_turn_index, self._request_turn())
        if (answered := self._findings_answer()) is not None:
            yield from self._finish(answered, "rendered")
            return
        last_call: tuple[str, str] | None = None
        # A draft is written, never looked for: no tool serves it.
        force_answer = self.drafting is not None
        while self.answer is None:
            if self.cancel.is_set():
                raise _Cancelled
            must_answer = force_answer or len(self.steps) >= self.options.max_steps
            repair, self.repair = self.repair, None
            look_again, self.look_again = self.look_again, None
            if repair is not None and not must_answer:
                offered = self._repair_specs(repair)
            elif look_again is not None and not must_answer:
                # The call it made was not run (`llmos.look_instead`): a look of another kind, not a change or an
                # answer made without one (offered every tool, the model moved the example's screenshots).
                offered = [spec for spec in self.tools if spec.effect is Effect.READ
                           and spec.name not in (ANSWER_TOOL, look_again)]
                repair = None
            else:
                repair = None
                offered = (self._stdin_specs() if not must_answer and self._must_read_the_rest() else
                           self._offered_specs(answer_only=must_answer, withhold_answer=not must_answer
                                               and (self._change_still_owed() or self._look_still_owed()
                                                    or self._clause_still_owed())))
            raw_call = yield from self._generate(offered, repair)
            if raw_call is None:
                return
            tool_name, args, raw_text = raw_call
            if tool_name == ANSWER_TOOL:
                text = self.session.safety.redact_text(str(args.get("text", ""))).strip()
                if not self.asked_again and (note := off_question_note(
                        text, self.request, [step.snapshot() for step in self.steps])) is not None:
                    # Once: the reply stays in the conversation, so the model sees what to say instead.
                    self.asked_again = True
                    self.turns.append(Turn("assistant", self.session.safety.redact_text(raw_text)))
                    self.turns.append(Turn("user", note))
                    force_answer = True
                    continue
                yield from self._finish(text, "model")
                return
            spec = self._spec(tool_name)
            assert spec is not None  # the grammar only offers registered tools
            step = StepInProgress(index=len(self.steps), tool=tool_name, args=args, redact=self._redact)
            if self.first_call_at is None:
                self.first_call_at = time.perf_counter()
            self.steps.append(step)
            self.generated_calls.append(_written_call(raw_text) or PlannedCall(tool_name, args))
            yield StepPlanned(step.snapshot())
            if (misplaced := look_instead(tool_name, args, self.request, self._known_texts(),
                                          changes=self._changes(tool_name))) is not None:
                yield from self.steps_runner.fail(step, misplaced)
                self.look_again = None if self.looked_again else tool_name
                self.looked_again = True
            else:
                yield from self.steps_runner.run(spec, step)
            if step.status == "error" and not self.repaired:
                self.repair = path_repair(tool_name, args, step.result, changes=self._changes(tool_name))
                if self.repair is not None:
                    self.repair = sure_repair(self.repair, args, place_names(self.request))
                self.repaired = self.repair is not None
            elif step.status == "ok" and (owed := self._read_owed(tool_name, args, step) or self._rest_owed()):
                self.repair = owed
            if self.repair is None and (rendered := self._lookup_answered(spec, step)) is not None:
                yield from self._finish(rendered, "rendered")
                return
            # The reply exactly as generated, so the KV cache already holds it and the next turn reuses it (unless
            # it holds a stored secret: the model never reads one back).
            self.turns.append(Turn("assistant", self.session.safety.redact_text(raw_text)))
            self.turns.append(Turn("tool", step.result or "", tool_name=tool_name))
            # Small models sometimes repeat a call verbatim; a second identical call adds nothing, so the next
            # turn must answer from what is known.
            call_key = (tool_name, json.dumps(args, sort_keys=True))
            force_answer = call_key == last_call
            last_call = call_key

    def _refuse_named_command(self) -> Generator[Event, None, bool]:
        """Refuse, without the model, a command line the request itself asks to run when the policy denies it as
        written (`llmos.policies.requested_command`): the model's rewording of it could otherwise run. Judged as
        the command it is, not against this request's intent (which would only say "no commands"), so the
        refusal gives the command's own reason. Returns True when refused."""
        spec = self.session.registry.get(SHELL_TOOL)
        if spec is None:
            return False
        for line in requested_commands(self.request):
            # As `shell.run` would see it: the line is shell syntax, so policy parses it through `bash -c`.
            argv = ("bash", "-c", line)
            decision = self.session.safety.policy.decide_command(list(argv))
            if decision.verdict != "deny":
                continue
            impact = Impact(argv=argv)
            step = StepInProgress(index=0, tool=spec.name, args={"argv": list(argv)}, redact=self._redact)
            self.steps.append(step)
            yield StepPlanned(step.snapshot())
            yield from self.steps_runner.refuse(step, impact, decision)
            yield from self._finish("", "rendered")
            return True
        return False

    def _refuse_sending(self) -> Generator[Event, None, bool]:
        """Answer, without the model, a request to send something to a URL when the policy denies the network
        (`llmos.policies.intent.url_to_send_to`): no tool can do it, and the model, planning anyway, answered
        with the success message the request told it to print. Judged as an upload command would be, so a
        profile that allows or asks about the network leaves the request to the model. Returns True when
        answered."""
        url = url_to_send_to(self.request)
        if url is None:
            return False
        decision = self.session.safety.policy.decide_command(["curl", "--upload-file", "-", url])
        if decision.verdict != "deny":
            return False
        yield from self._finish(f"I can't send anything to {url}: this policy ({self.session.safety.policy.name}) "
                                "does not let llmos use the network, and no tool of llmos reaches it. Nothing was "
                                "sent.", "rendered")
        return True

    def _answer_live_fact(self) -> Generator[Event, None, bool]:
        """Answer, without the model, a request for a live fact of the outside world (`llmos.live_facts`): the
        weather, a market price, the news. Nothing llmos reaches knows it, and the model made it up. Piped data
        may hold it, so a request with piped data goes to the model. Returns True when answered."""
        fact = None if self.has_stdin_data else live_fact_asked(self.request)
        if fact is None:
            return False
        yield from self._finish(offline_answer(fact), "rendered")
        return True

    def _answer_outside_action(self) -> Generator[Event, None, bool]:
        """Answer, without the model, a request for an action in the outside world that no tool of llmos takes
        (`llmos.outside_actions`): a call, a booking, a purchase, a payment. The model had answered "Sure, I can
        send you an email." A message (an email, a text, a post) goes to the model to be written as a draft,
        under llmos's own words (`_finish`). Piped data may be what the request is about, so such a request goes
        to the model as before. Returns True when answered."""
        action = None if self.has_stdin_data else outside_action_asked(self.request)
        if action is None:
            return False
        if action.draft:
            self.drafting = action
            return False
        yield from self._finish(cannot_answer(action), "rendered")
        return True

    def _describe_llmos(self) -> Generator[Event, None, bool]:
        """Answer "What can you do?" (`llmos.self_description`) from the registered tools, without the model, which
        had answered "I can answer questions, provide information, and assist with tasks.". Returns True when
        answered."""
        if self.has_stdin_data or not asks_what_llmos_does(self.request):
            return False
        tools = [(spec.name, spec.effect) for spec in self.session.registry.specs()]
        yield from self._finish(self_description(tools), "rendered")
        return True

    def _fast_path(self) -> Generator[Event, None, bool]:
        """Plan the call without the model when the request is a fast-path intent, run it as any planned step,
        and answer from its result. Returns True when answered. Otherwise the model takes over, with a step that
        ran (denied, failed, or a result the renderer cannot word) already in the conversation, exactly as if it
        had planned that call itself: what to say about a failure is the model's job."""
        if not self.options.fast_path or self.has_stdin_data:
            return False
        started = time.perf_counter()
        plan = match_fast_path(self.request)
        spec = self.session.registry.get(plan.tool) if plan else None
        if plan is None or spec is None or spec.name not in {offered.name for offered in self.tools}:
            return False
        try:
            args = spec.validate_as_json(plan.args)
        except Exception:  # noqa: BLE001  a plan this registry's tool does not accept: let the model plan
            return False
        if self.cancel.is_set():
            raise _Cancelled
        self.plan_ms += (time.perf_counter() - started) * 1000
        self.first_call_at = time.perf_counter()
        step = StepInProgress(index=len(self.steps), tool=spec.name, args=args, redact=self._redact)
        self.steps.append(step)
        self.generated_calls.append(PlannedCall(spec.name, plan.args))
        yield StepPlanned(step.snapshot())
        yield from self.steps_runner.run(spec, step)
        self.turns.append(Turn("assistant", json.dumps({"tool": spec.name, "args": plan.args})))
        self.turns.append(Turn("tool", step.result or "", tool_name=spec.name))
        answer = plan.render(step.result or "") if step.status == "ok" else None
        if answer is None:
            return False
        self.answered_by_fast_path = True
        yield from self._finish(answer, "rendered")
        return True

    def _finish(self, text: str, source: AnswerSource) -> Iterator[Event]:
        """Give the answer, with llmos's own account of any step that did not happen put first (and a model
        answer that claims a change no step made left out). The answer is shown whole, once checked: a model's
        words are never streamed to a person before llmos has checked them against the step records."""
        steps = [step.snapshot() for step in self.steps]
        if source == "model" and self.drafting is not None:
            text = with_draft(self.drafting, text)
        if source == "model" and (steps or self.stdin_seen):
            # Every fact the model states must be in what the tools returned (or the request, or the piped data
            # it read); an answer that fails is replaced by one llmos renders from the results. With neither a
            # step nor piped data there is nothing to check against: the model answered from its own knowledge
            # (restraint). Piped data alone is checked: an answer about a log put it "in ~/Downloads".
            checked = grounded_answer(text, self.request, steps, extra_sources=self._fact_sources(steps))
            text, source, self.ungrounded = checked.text, checked.source, checked.ungrounded
            # A failed call's paths ground what the model says it tried, never where a change went.
            if source == "model" and (misplaced := misplaced_paths(text, self.request, steps)) and (
                    changes := changes_text(steps)):
                text, source, self.ungrounded = changes, "rendered", misplaced
            if source == "rendered" and not steps and self.stdin_findings:
                text = findings_text(self.stdin_findings)
        only_looked = all((spec := self._spec(step.tool)) is not None and spec.effect is Effect.READ for step in steps)
        read_text = "\n".join([self.stdin_seen or "", *(step.result or "" for step in steps)])
        shown, replaced = with_outcome(text, steps, read_text, only_looked=bool(steps) and only_looked)
        if shown is not None and not replaced:
            shown = with_asked_count(shown, self.request, steps)
        self.answer = shown or ""
        self.answer_source = "rendered" if replaced else source
        yield AnswerToken(self.answer)
        yield Answer(self.answer)

    def _lookup_answered(self, spec: ToolSpec, step: StepInProgress) -> str | None:
        """The answer llmos words itself when the request's first call is a look whose result answers it
        (`llmos.answers.lookup`): with piped data, only a table query's single row; never with a change still to
        make."""
        if len(self.steps) != 1 or spec.effect is not Effect.READ or self.tells_a_change:
            return None
        if self.has_stdin_data:
            return query_answer(step.snapshot(), self.request)
        return lookup_answer(step.snapshot(), self.request)

    def _fact_sources(self, steps: list[Step]) -> list[str]:
        """Besides successful results: the piped data the model read, where llmos found the request's names,
        what failed or skipped steps reported (a `did_you_mean`, a denial's reason) and every call's tool and
        arguments (the model may name what it planned: "according to stdin.sql" names no made-up file)."""
        sources = [self.stdin_seen] if self.stdin_seen else []
        if self.places_note:
            sources.append(self.places_note)
        sources.extend(step.result for step in steps if step.status != "ok" and step.result)
        sources.extend(json.dumps({"tool": step.tool, "args": step.args}, ensure_ascii=False) for step in steps)
        return sources

    def _known_texts(self) -> list[str]:
        """What a search may look for, or a write of found things hold, besides the request's words: the piped
        data and what steps returned. Only steps that succeeded: a refusal's message quotes the refused text, and
        had let the model search for, then write, the line it made up."""
        texts = [self.stdin_seen] if self.stdin_seen else []
        texts.extend(step.result for step in self.steps if step.result and step.status == "ok")
        return texts

    @functools.cached_property
    def place_choices(self) -> tuple[str, ...]:
        """The folder the request names as the place to look, and its subfolders: a look's `path` is one of them
        (`llmos.place_grounding`). Listed when a turn's grammar first needs it, not for a request the fast path
        or llmos answers."""
        place = named_place(self.request)
        return place_choices(place) if place is not None else ()

    @functools.cached_property
    def destinations(self) -> tuple[str, ...]:
        """The destinations the request spells out: a move's or copy's `destination` is one of them
        (`llmos.destination_grounding`)."""
        return spelled_destinations(self.request)

    def _changes(self, tool_name: str) -> bool:
        """Whether the tool changes things (any effect but a read)."""
        return (spec := self._spec(tool_name)) is not None and spec.effect is not Effect.READ

    def _spec(self, name: str) -> ToolSpec | None:
        """The tool `name` as this request has it (a stdin tool is bound to this request's document)."""
        return self._specs.get(name) or self.session.registry.get(name)

    def _request_turn(self, stdin_budget_tokens: int | None = None) -> Turn:
        """The user's turn: the request, and piped data whole or as an excerpt made for `stdin_budget_tokens`
        (by default, what the context leaves beside the prefix, the reply and room for a few calls)."""
        if self.stdin_view is None:
            notes = [note for note in (self._places_note(), DRAFT_NOTE if self.drafting else None) if note]
            return Turn("user", user_request(self.request, None, "\n".join(notes) or None))
        backend = self.session.backend
        if stdin_budget_tokens is None:
            bare = render_conversation([*self.turns, Turn("user", user_request(self.request, ""))])
            room = (backend.n_ctx - self.options.max_tokens - self.prefix_tokens - backend.count_tokens(bare)
                    - STDIN_RESULT_ROOM_TOKENS)
            stdin_budget_tokens = min(self.options.stdin_budget_tokens, room)
        self.stdin_budget_tokens = max(MIN_STDIN_BUDGET_TOKENS, stdin_budget_tokens)
        excerpt = stdin_excerpt(self.stdin_view, self.request, budget_tokens=self.stdin_budget_tokens,
                                budget_chars=self.options.stdin_budget_chars, count_tokens=backend.count_tokens)
        self.stdin_cut = excerpt.note is not None
        findings = self._findings_note()
        notes = [note for note in (excerpt.note, excerpt.shown_as, self._table_note(), findings) if note]
        # Piped data is data as a tool result is: instructions planted in it for an assistant are set aside.
        shown, _set_aside = set_aside(excerpt.text)
        # The findings are llmos's own facts about the data: an answer may state them.
        self.stdin_seen = f"{shown}\n{findings}" if findings else shown
        return Turn("user", user_request(self.request, shown, "\n".join(notes) or None))

    def _places_note(self) -> str | None:
        """Where the request's names are in the home folder (`llmos.tools.named_paths`), found once per request:
        the model guessed "~/webapp" for ~/projects/webapp."""
        if self.places_note is False:
            self.places_note = places_note(named_places(self.request)) if self.options.places else None
        return self.places_note

    def _findings_answer(self) -> str | None:
        """llmos's answer from its log findings when they answer the request by themselves ("any disk errors?"
        -> the disk I/O errors, per disk): the model, given them, kept the count and dropped the disk."""
        if not self.stdin_findings or self.tells_a_change:
            return None
        return findings_answer(self.request, self.stdin_findings)

    def _findings_note(self) -> str | None:
        """What llmos found reading the whole piped log (`llmos.tools.piped.digest`), once per request."""
        if self.stdin_view is None or self.stdin_table is not None:
            return None
        if self.stdin_findings is None:
            self.stdin_findings = log_findings(self.stdin_view)
        if not self.stdin_findings:
            return None
        return findings_text(self.stdin_findings, NOTE_HEADING)

    def _table_note(self) -> str | None:
        """The piped table's schema, for `stdin.sql` (llmos's words: its column names are made identifiers)."""
        if self.stdin_table is None or SQL_TOOL not in self._specs:
            return None
        return f"stdin.sql reads the piped data as this table:\n{self.stdin_table.shape.create_statement()}"

    @property
    def _redact(self) -> Callable[[Any], Any] | None:
        safety = self.session.safety
        return safety.redact_value if safety.redact is not None else None

    def _similar_plan(self, request: str) -> LearnedPlan | None:
        """The kept plan most like this request whose tools this request may all use (a read-only request is
        never shown a delete), or None."""
        memory = self.session.memory
        if memory is None:
            return None
        found = memory.similar(request, limit=1, allowed_tools={spec.name for spec in self.tools})
        return found[0] if found else None

    def _library_examples(self, request: str, piped: bool) -> list[PlanExample]:
        """The library's examples most like this request, least alike first, that use only its tools."""
        if self.options.examples <= 0:
            return []
        return library_index().nearest(request, self.options.examples, piped=piped, allowed_tools=self._specs.keys())

    def _offered_specs(self, answer_only: bool, withhold_answer: bool = False) -> list[ToolSpec]:
        """The tools this turn's grammar allows: the request's tools (those of other effect classes are not
        refused afterwards: the model cannot even name them), only `answer`, or all but `answer`."""
        if answer_only:
            return [spec for spec in self.tools if spec.name == ANSWER_TOOL]
        if withhold_answer:
            return [spec for spec in self.tools if spec.name != ANSWER_TOOL]
        return self.tools

    def _must_read_the_rest(self) -> bool:
        """Whether this first turn must read the piped data with a stdin tool rather than answer: the data is a
        table (shown four rows, the model summed the wrong columns in its head), or the model was shown only an
        excerpt of it (it stated counts of what it was shown: "10 lines contain ERROR" of 7,797) and llmos's log
        findings, counted over the whole data, were not shown beside it. Never for a change: it may come first."""
        if self.steps or self.tells_a_change:
            return False
        return self.stdin_table is not None or (self.stdin_cut and not self.stdin_findings)

    def _stdin_specs(self) -> list[ToolSpec]:
        return [spec for spec in self.tools if spec.name.startswith(STDIN_TOOL_PREFIX)] or self.tools

    def _read_owed(self, tool_name: str, args: dict[str, Any], step: StepInProgress) -> PathRepair | None:
        """The next turn's forced read, when the request asks what a file says (or asks for a change, which may
        edit lines, after a search for lines) and a finding step found the few files it could be: `files.read`
        with its path limited to them, without `answer`. Once per request, only before any read. The 1.5B model
        answered "what's on my shopping list" with the found file's name and size, and "which flat is my letter
        about" from the search hit alone."""
        if self.read_offered or READ_TOOL not in self._specs or any(done.tool == READ_TOOL for done in self.steps):
            return None
        if self.tells_a_change and (search := self._search_owed(tool_name, args, step)) is not None:
            return search
        if self.tells_a_change:
            # A change after a search for lines: the lines are to be edited, or written elsewhere. An edit is
            # offered only after a read (it names lines), and the 1.5B model searched "flask" twice, never read
            # requirements.txt, and answered "copy X to X.bak, then change flask to 3.1.0" with the copy alone.
            if tool_name != SEARCH_TOOL or EDIT_TOOL not in self._specs:
                return None
        elif not (asks_for_content(self.request) or asks_for_line_count(self.request)):
            return self._named_file_read_owed(tool_name)
        try:
            result = json.loads(step.result or "")
        except json.JSONDecodeError:
            return None
        paths = found_files(tool_name, args, result) if isinstance(result, dict) else []
        # The found files the request names ("change flask in the webapp's requirements.txt"), when it names any:
        # offered the search's three hits, the model read and edited app.py.
        named = [path for path in paths if _names_file(self.request, path)]
        paths = named or paths
        if not 1 <= len(paths) <= MAX_FOUND_CHOICES:
            return None
        self.read_offered = True
        return PathRepair(READ_TOOL, "path", tuple(paths))

    def _search_owed(self, tool_name: str, args: dict[str, Any], step: StepInProgress) -> PathRepair | None:
        """The next turn's search for the lines of a word, when a change was asked for and a find for that word
        matched no file name but found files whose text holds it (`files_mentioning_it`): the things to change or
        write are lines ("find the TODOs in my webapp project and write them to ~/Documents/todos.txt"). The
        1.5B model had written "TODO: Review the app.py file." from nothing, then searched for its own words.
        The search's text is the word; once per request, only before any search."""
        if (tool_name != FIND_TOOL or SEARCH_TOOL not in self._specs or self.search_offered
                or any(done.tool == SEARCH_TOOL for done in self.steps)):
            return None
        result = parsed_result(step.result)
        word = mentioned_word(str(args.get("name") or ""))
        if result is None or not result.get("files_mentioning_it") or word is None:
            return None
        self.search_offered = True
        return PathRepair(SEARCH_TOOL, "text", (word,))

    def _rest_owed(self) -> PathRepair | None:
        """The next turn's change of the found files a change for them all left out (`llmos.found_rest`), at most
        once per file that can be found."""
        if self.rest_turns >= MAX_FOUND_CHOICES:
            return None
        rest = rest_owed(self.request, [step.snapshot() for step in self.steps], self._changes)
        self.rest_turns += rest is not None
        return rest

    def _named_file_read_owed(self, tool_name: str) -> PathRepair | None:
        """The next turn's forced read of the files the request spells out, when a read-only request about them
        was looked at some other way and it asks about what they say, not about the files themselves (their
        size, date, a count). Asked "is the review in ~/Documents/review.txt positive or negative?", the 1.5B
        model searched the file for "positive", found nothing, and answered "positive"; asked which routes
        ~/projects/webapp/app.py defines, it searched the folder for the text "app.py"."""
        if tool_name == READ_TOOL or self.has_stdin_data or asks_about_the_file_itself(self.request):
            return None
        named = spelled_files(self.request)
        if not 1 <= len(named) <= MAX_FOUND_CHOICES:
            return None
        self.read_offered = True
        return PathRepair(READ_TOOL, "path", named)

    def _look_still_owed(self) -> bool:
        """Whether this first turn must look rather than answer: the request names something of the person's
        (`llmos.look_first`), no piped data holds it, and a tool that could look is offered. The 1.5B model
        answered such requests from nothing ("your letter is about the heating")."""
        return (not self.steps and not self.has_stdin_data and names_own_things(self.request)
                and any(spec.name != ANSWER_TOOL for spec in self.tools))

    def _change_still_owed(self) -> bool:
        """Whether this turn must make a call rather than answer: the request tells llmos to make a change, the
        model has so far only looked, and its last look succeeded. Once per request; the turn after may answer
        (there was nothing to change, or it cannot be done). The 1.5B model often answered straight from a
        listing, claiming a change it never made ("the PDFs were counted and saved" with no write)."""
        if not self.tells_a_change or self.change_nudged or not self.steps or self.steps[-1].status != "ok":
            return False
        effects = [self._spec(step.tool) for step in self.steps]
        if any(spec is None or spec.effect is not Effect.READ for spec in effects):
            return False
        self.change_nudged = True
        return True

    def _clause_still_owed(self) -> bool:
        """Whether this turn must make a call rather than answer because a clause of the request has no step yet:
        a path the request spells out (from ~ or /, or a destination under a home folder: "pdfs into
        Downloads/PDFs and the jpg photos into Downloads/Images") that no call has named, or fewer change calls
        made (allowed or not) than changes the request gives as steps of their own (`SEQUENCED_CHANGE`). Only
        after a step that succeeded, and at most `MAX_CLAUSE_NUDGES` turns per request. The 1.5B model answered "delete
        ~/Downloads/cache.tmp, then summarise ~/Documents/standup.txt" after the delete, and "copy requirements.txt
        to requirements.bak, then change flask to 3.1.0 in the original" after the copy."""
        if not self.steps or self.steps[-1].status != "ok" or self.clause_nudges >= MAX_CLAUSE_NUDGES:
            return False  # after a failure the model may answer to say so
        change_calls = sum(1 for step in self.steps if (spec := self._spec(step.tool)) is not None
                           and spec.effect is not Effect.READ)
        changes_left = self.tells_a_change and len(SEQUENCED_CHANGE.findall(self.request)) > change_calls
        calls_args = [step.args for step in self.steps]
        if (not changes_left and not untouched_paths(self.request, calls_args)
                and not unnamed_paths(self.destinations, calls_args)):
            return False
        self.clause_nudges += 1
        return True

    def _repair_specs(self, repair: PathRepair) -> list[ToolSpec]:
        """A repair turn's tools: the failed call's tool (its path argument constrained), and `answer` unless
        the tool only reads. Offered `answer`, the model mostly gave up and reported the failure although the
        path it meant was among the suggestions (`~/documents` for ~/Documents); a look at a suggested path
        costs nothing and its result is then there to answer from. A change keeps `answer` on offer: the
        suggested file is not necessarily the one the person meant, and the model may say so."""
        spec = self._specs.get(repair.tool)
        if spec is None:
            return self.tools  # the repair's tool is not this request's: an ordinary turn
        read_only = spec.effect is Effect.READ
        return [spec for spec in self.tools if spec.name == repair.tool or (spec.name == ANSWER_TOOL
                                                                            and not read_only and repair.offer_answer)]

    def _grounded_parameters(
        self, offered: list[ToolSpec], repair: PathRepair | None
    ) -> list[tuple[str, dict[str, Any]]]:
        """Each offered tool's parameters as this turn's grammar has them: a repaired path limited to the paths
        suggested, a pid to the pids the request and the results so far know (`llmos.pid_grounding`; a tool
        that needs a pid is left out until one is known), a find's size and age filters only where the request
        speaks of sizes or ages, its name only where the request names something, and a sort to the one order it
        asks for (`llmos.filter_grounding`), a look's path to the one folder the request names as its place
        (`llmos.place_grounding`), a move's or copy's destination to those the request spells out
        (`llmos.destination_grounding`), a permission mode to what the request's words allow
        (`llmos.mode_grounding`), an edit to the files read so far (none read: no edit); unless nothing else would
        be on offer."""
        known_pids = request_pids(self.request) | result_pids(
            step.result for step in self.steps if step.status == "ok")
        read_paths = tuple(dict.fromkeys(str(step.args["path"]) for step in self.steps
                                         if step.tool == READ_TOOL and step.status == "ok" and step.args.get("path")))
        # Once a call named some of the request's destinations, the next move or copy goes to one of the rest.
        destinations_to_name = destinations_left(
            self.destinations, unnamed_paths(self.destinations, [step.args for step in self.steps]))
        grounded: list[tuple[str, dict[str, Any]]] = []
        for spec in offered:
            parameters = spec.parameters_schema
            if repair is not None and spec.name == repair.tool:
                parameters = repair.constrain(parameters)
            if spec.name == EDIT_TOOL:
                # An edit names lines: the 1.5B model guessed them ("lines 0-10" of a one-line file) unless it had
                # read the file. So an edit is offered only after a read, and only of a file read.
                if not read_paths:
                    continue
                parameters = PathRepair(EDIT_TOOL, "path", read_paths).constrain(parameters)
            grounded_words = ground_in_words(spec.name, parameters, self.request)
            if repair is None or spec.name != repair.tool:
                grounded_words = ground_place(spec.name, grounded_words, self.place_choices)
            # A repair of a move's source keeps its destination to the request's: remade from the desktop, the
            # screenshots had gone to the prompt example's folder.
            if repair is None or spec.name != repair.tool or repair.argument != DESTINATION_ARGUMENT:
                grounded_words = ground_destination(spec.name, grounded_words,
                                                    destinations_to_name or self.destinations,
                                                    first=bool(destinations_to_name))
            limited = ground_pid(ground_mode(grounded_words, self.request), known_pids)
            if limited is not None:
                grounded.append((spec.name, limited))
        if grounded:
            return grounded
        return [(spec.name, spec.parameters_schema) for spec in offered]

    def _generate(
        self, offered: list[ToolSpec], repair: PathRepair | None = None
    ) -> Generator[Event, None, GeneratedCall | None]:
        """Ask the model for one call among `offered` (with `repair`, its tool's path argument limited to the
        suggested paths); stream answer text as it comes.

        Returns (tool, validated args, the raw reply), or None when the model failed."""
        schema = call_schema(self._grounded_parameters(offered, repair))
        conversation = self._conversation_that_fits()
        # `answer` is always on offer, so the cap must leave room for a full reply.
        max_tokens = self.options.max_tokens
        backend = self.session.backend
        streamer = AnswerStreamer(ANSWER_TOOL)
        pieces: list[str] = []
        started = time.perf_counter()
        for piece in backend.generate(self.prefix, conversation, schema, max_tokens):
            if self.cancel.is_set():
                # Leaving the loop closes the backend's generator: llama.cpp stops after the token in hand.
                raise _Cancelled
            pieces.append(piece)
            answering = streamer.started
            streamer.feed(piece)  # the answer's text so far, kept should the reply run out of tokens
            if streamer.started and not answering:
                yield AnswerStarted()
        self.plan_ms += (time.perf_counter() - started) * 1000
        stats = backend.last_stats
        self.usage["prompt_tokens"] += stats.prompt_tokens
        self.usage["cached_tokens"] += stats.cached_tokens
        self.usage["generated_tokens"] += stats.generated_tokens
        raw = "".join(pieces)
        parsed = _parse_call(raw)
        if parsed is None and streamer.started:
            # The answer ran past its token budget: keep what was said rather than lose it.
            return ANSWER_TOOL, {"text": streamer.text + " …"}, raw
        if parsed is None or parsed[0] not in {spec.name for spec in offered}:
            self.failed = True
            self.failure_message = f"the model produced no valid tool call: {raw[:200]!r}"
            yield Error(self.failure_message)
            return None
        tool_name, args = parsed
        spec = self._spec(tool_name)
        assert spec is not None
        try:
            args = spec.validate_as_json(args)
        except Exception as exc:  # noqa: BLE001  the grammar should prevent this; report instead of crashing
            self.failed = True
            self.failure_message = str(exc)
            yield Error(self.failure_message)
            return None
        return tool_name, args, raw

    def _conversation_that_fits(self) -> str:
        """The rendered turns, with the oldest tool results replaced by a note until prompt and reply fit the
        context; the latest result is what the next call depends on, so it goes last."""
        backend = self.session.backend
        budget = backend.n_ctx - self.options.max_tokens - self.prefix_tokens
        conversation = render_conversation(self.turns)
        while backend.count_tokens(conversation) > budget:
            oldest = next(
                (index for index, turn in enumerate(self.turns) if turn.role == "tool" and turn.text != OMITTED_RESULT),
                None,
            )
            if oldest is not None:
                self.turns[oldest] = Turn("tool", OMITTED_RESULT, tool_name=self.turns[oldest].tool_name)
            elif not self._shrink_stdin_excerpt(backend.count_tokens(conversation) - budget):
                break  # nothing left to drop; the backend says plainly that the prompt is too long
            conversation = render_conversation(self.turns)
        return conversation

    def _shrink_stdin_excerpt(self, over_tokens: int) -> bool:
        """Make piped data's excerpt `over_tokens` smaller (at least by half of what is left); False when it is
        as small as it gets. Only once every older result is dropped: a changed excerpt re-evaluates the turns."""
        if self.stdin_budget_tokens is None or self.stdin_budget_tokens <= MIN_STDIN_BUDGET_TOKENS:
            return False
        smaller = min(self.stdin_budget_tokens - over_tokens, self.stdin_budget_tokens // 2)
        self.turns[self.request_turn_index] = self._request_turn(max(MIN_STDIN_BUDGET_TOKENS, smaller))
        return True


def _names_file(request: str, path: str) -> bool:
    """Whether the request says the file's name ("requirements.txt"), as a whole word."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(name) and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", request, re.IGNORECASE) is not None


def _parse_call(raw: str) -> tuple[str, dict[str, Any]] | None:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("tool"), str) or not isinstance(value.get("args"), dict):
        return None
    return value["tool"], value["args"]


def _written_call(raw: str) -> PlannedCall | None:
    parsed = _parse_call(raw)
    return PlannedCall(*parsed) if parsed else None

