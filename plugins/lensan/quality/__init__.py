"""Quality: Great Expectations gates (expectations/), attribution of failures to publication scopes,
and the publication policy every DAG applies to a gate result."""
