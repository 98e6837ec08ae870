"""Quality: Great Expectations gates (expectations/) and what their results mean for a publication.

checkpoints (run the GX checkpoints, Data Docs) -> summary (the JSON-safe result, GateFailed) with
scopes (attribution of failures to provinces / regions / the nation) -> results (ops.gate_results) and
policy (proceed | blocked | stop: the one publication rule every DAG and the CLI apply)."""
