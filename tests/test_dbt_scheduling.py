"""The order in which run_dbt starts ready nodes (lensan.transform.scheduling): the longest chain first."""

from __future__ import annotations

import threading

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


class _Manifest:
    """GraphQueue.get() looks the node up in the manifest; the node ids stand in for nodes here."""

    def expect(self, node_id):
        return node_id


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
