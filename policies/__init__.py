"""Policy: what may run. Decisions are allow / ask / deny, each with the rule that made it and a reason."""
