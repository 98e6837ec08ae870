"""The order in which `run_dbt` starts the nodes that are ready: the longest chain first.

dbt starts a ready node by its depth from the roots, ties by name: on 2 threads, shallow marts
(`fct_reported_values`, `fct_product_type_monthly`, ...) went before the chain every build waits on
(orders → members per unit → daily deltas → running levels → `fct_indicator_values`), which started
up to 5 s late at each of those points. Ranking a ready node by the longest chain of nodes below it
— what Airflow's `downstream` priority weight does for the Cosmos task group — starts that chain as
soon as it can run; the other nodes fill the thread it leaves idle. Only the order of nodes that are
ready changes: dbt still starts a node after every node it depends on, tests included.

dbt's own loop takes every node off its queue as soon as it is ready and hands it to the thread
pool, which runs them first in, first out; so the queue here also hands a node out only when a
worker is free.
"""

from __future__ import annotations


def longest_chain_below(graph) -> dict[str, int]:
    """Nodes in the longest path from each node of a networkx DiGraph (edges downstream) to a node
    without successors (0 for those)."""
    import networkx as nx

    below: dict[str, int] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        below[node] = 1 + max((below[child] for child in graph.successors(node)), default=-1)
    return below


def longest_chain_first(graph) -> dict[str, int]:
    """dbt queue scores (lower starts first) of a networkx DiGraph whose edges point downstream."""
    return {node: -length for node, length in longest_chain_below(graph).items()}


_dbt_own: dict = {}     # GraphQueue's own get and _get_scores, kept by install() for uninstall()
_workers = 1


def _get(self, block: bool = True, timeout: float | None = None):
    # dbt's loop takes every ready node off the queue at once and the thread pool runs them first in,
    # first out: the ranking would only order nodes ready at the same instant
    with self.lock:
        while len(self.in_progress) >= _workers or self.inner.empty():
            self.some_task_done.wait(1.0)   # re-checked each second: a missed notify never hangs the build
    return _dbt_own["get"](self, block, timeout)


def _get_scores(self, graph) -> dict[str, int]:
    return longest_chain_first(graph)


def install(threads: int) -> None:
    """Make dbt's graph queue (dbt.graph.queue.GraphQueue, dbt-core 1.11) rank ready nodes by
    `longest_chain_first` and hand a node out only when one of the `threads` workers is free and
    every node made ready by the last one done is queued; idempotent."""
    from dbt.graph.queue import GraphQueue

    global _workers
    _workers = threads
    if GraphQueue.get is not _get:
        _dbt_own.update(get=GraphQueue.get, _get_scores=GraphQueue._get_scores)
        GraphQueue.get = _get
        GraphQueue._get_scores = _get_scores


def uninstall() -> None:
    """dbt's own order again (the next `run_dbt` installs this one)."""
    from dbt.graph.queue import GraphQueue

    for name, member in _dbt_own.items():
        setattr(GraphQueue, name, member)
