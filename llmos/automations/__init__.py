"""Automations: rules made once from a request, run by the daemon on file events without the model."""
