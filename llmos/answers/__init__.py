"""What llmos says at the end of a request, grounded in what the tools returned: outcomes stated from the step
records (what was skipped, denied, failed), answers rendered from results, and the check that a model's answer
states only facts the results hold. The model plans and phrases; it never vouches."""
