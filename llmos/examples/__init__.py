"""The planner's examples library: verified request -> plan examples, the few most like a request placed in its
prompt (after the cached prefix), so the small model sees how a request like this one is planned."""
