"""The order in which run_dbt starts ready nodes (lensan.transform.scheduling): the longest chain first."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import networkx as nx
import pytest

from lensan.transform import scheduling

pytestmark = pytest.mark.unit


def test_longest_chain_below_counts_the_nodes_of_the_longest_path_down():
    successors = {"orders": ["assert_latest", "marts_a"], "assert_latest": ["members"], "members": ["values"],
                  "marts_a": ["values"], "values": [], "forms": ["values"]}
    assert scheduling.longest_chain_below(nx.DiGraph(successors)) == {
        "orders": 3, "assert_latest": 2, "members": 1, "marts_a": 1, "values": 0, "forms": 1}


def test_a_deep_graph_does_not_recurse():
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(5000)} | {"n5000": []}
    assert scheduling.longest_chain_below(nx.DiGraph(chain))["n0"] == 5000


class _Node(str):
    """A node id standing in for the manifest's node, with the model config the queue reads."""

    def __new__(cls, node_id: str, meta: dict):
        node = super().__new__(cls, node_id)
        node.config = SimpleNamespace(meta=meta)
        return node


class _Manifest:
    """GraphQueue.get() looks the node up in the manifest; `meta` by node id, {} for the others."""

    def __init__(self, meta: dict | None = None):
        self.meta = meta or {}

    def expect(self, node_id):
        return _Node(node_id, self.meta.get(node_id, {}))


def _start_order(queue_class, graph: nx.DiGraph) -> list[str]:
    """The order one dbt thread takes the nodes off dbt's queue."""
    queue = queue_class(graph.copy(), _Manifest(), set(graph.nodes))
    started = []
    while not queue.empty():
        node = queue.get(block=False)
        started.append(node)
        queue.mark_done(node)
    return started


_GRAPH = [("model.changes", "model.fct_reported_values"),
          ("model.forms", "model.fct_reported_values"),
          ("model.changes", "model.int_orders"),
          ("model.int_orders", "model.int_members"),
          ("model.int_members", "model.int_deltas"),
          ("model.int_deltas", "model.fct_values"),
          ("model.fct_reported_values", "model.rpt_weekly"),
          ("model.fct_values", "model.rpt_weekly")]


@pytest.fixture
def dbt_queue():
    """dbt's GraphQueue with its own order (an earlier run_dbt of the session installed ours);
    left so after the test: the next run_dbt installs ours again."""
    from dbt.graph.queue import GraphQueue

    scheduling.uninstall()
    yield GraphQueue
    scheduling.uninstall()


def test_dbt_takes_the_longest_chain_first_once_installed(dbt_queue):
    # a shallow mart ties in depth with the head of the long chain and sorts first by name: dbt's own
    # order starts it first
    graph = nx.DiGraph(_GRAPH)
    own_order = _start_order(dbt_queue, graph)
    assert own_order.index("model.fct_reported_values") < own_order.index("model.int_orders")
    scheduling.install(threads=1)
    order = _start_order(dbt_queue, graph)
    assert order[:3] == ["model.changes", "model.int_orders", "model.int_members"]
    # still a topological order: nothing before what it depends on
    assert all(order.index(a) < order.index(b) for a, b in graph.edges)


def test_a_node_is_handed_out_only_when_a_worker_is_free(dbt_queue):
    # with its one worker busy on `changes`, dbt's loop would take `forms` at once and queue it in its
    # thread pool, first in, first out, before the chain `changes` makes ready; installed, it waits
    scheduling.install(threads=1)
    graph = nx.DiGraph(_GRAPH)
    queue = dbt_queue(graph, _Manifest(), set(graph.nodes))
    assert queue.get() == "model.changes"
    taken = []
    waiter = threading.Thread(target=lambda: taken.append(queue.get()), daemon=True)
    waiter.start()
    waiter.join(0.5)
    assert taken == []
    queue.mark_done("model.changes")
    waiter.join(5)
    assert taken == ["model.int_orders"]


def _taken_while(queue, busy_node: str, ready_within: float = 0.5) -> list[str]:
    """What a second dbt thread takes off `queue` while `busy_node` runs, then once it is done."""
    taken = []
    waiter = threading.Thread(target=lambda: taken.append(queue.get()), daemon=True)
    waiter.start()
    waiter.join(ready_within)
    while_busy = list(taken)
    queue.mark_done(busy_node)
    waiter.join(5)
    return while_busy + ["|"] + taken[len(while_busy):]


def test_nothing_starts_beside_a_node_that_keeps_two_cores_busy(dbt_queue):
    # on 2 threads, with `changes` (cores: 2) running, `forms` (ready too) waits although a thread is free
    scheduling.install(threads=2)
    graph = nx.DiGraph(_GRAPH)
    queue = dbt_queue(graph, _Manifest({"model.changes": {"cores": 2}}), set(graph.nodes))
    assert queue.get() == "model.changes"
    assert _taken_while(queue, "model.changes") == ["|", "model.int_orders"]


def test_a_node_of_one_core_leaves_the_other_thread_free(dbt_queue):
    # the same graph without the meta: the second thread takes `forms` at once
    scheduling.install(threads=2)
    graph = nx.DiGraph(_GRAPH)
    queue = dbt_queue(graph, _Manifest(), set(graph.nodes))
    assert queue.get() == "model.changes"
    assert _taken_while(queue, "model.changes") == ["model.forms", "|"]


def test_a_two_core_node_ready_starts_beside_a_running_node(dbt_queue):
    # it is on the chain: it is not held back until the other thread is free
    scheduling.install(threads=2)
    graph = nx.DiGraph(_GRAPH)
    queue = dbt_queue(graph, _Manifest({"model.int_orders": {"cores": 2}}), set(graph.nodes))
    assert queue.get() == "model.changes"
    assert queue.get() == "model.forms"
    queue.mark_done("model.changes")
    assert queue.get() == "model.int_orders"    # model.forms still running
    assert _taken_while(queue, "model.int_orders") == ["|", "model.int_members"]
