"""What llmos says at the end of a request, grounded in what the tools returned: outcomes stated from the step
records (what was skipped, denied, failed), answers rendered from results, and the check that a model's answer
states only facts the results hold. The model plans and phrases; it never vouches."""

from llmos.answers.grounded import GroundedAnswer, grounded_answer
from llmos.answers.grounding import ungrounded_facts
from llmos.answers.render import render_step

__all__ = ["GroundedAnswer", "grounded_answer", "render_step", "ungrounded_facts"]
