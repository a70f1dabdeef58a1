"""Per-shop lanes: each shop's Shopify work in a queue of its own lane, lanes served in turn.

A broker queue is FIFO: 200 rewards of one shop queued before one of another's made the second
shop wait for all 200 (and a shop with 10,000 held every other shop back for minutes), though
the shops' Shopify buckets are separate and the second one was full. So the tasks that call a
shop's Admin API (fulfilment, code deactivation) go to ``<queue>.shop.<shop id % SHOP_LANES>``
and every worker consumes the main queue and all lanes. Kombu's Redis transport takes from its
queues round-robin (``queue_order_strategy`` ``round_robin``, its default: after a message the
queue it came from goes to the back), and RabbitMQ delivers to a channel's consumers in turn,
so a busy lane takes one slot in turn with every other queue that has work, whatever its
backlog. Shops that share a lane are still FIFO among themselves; 16 lanes keep that rare for
the shops that are busy at the same moment, and cost 16 empty keys or queues. Everything else
(webhooks, jobs, the sync) stays on the main queue, and deliveries to the merchant's
endpoints on the events queue.
"""

from __future__ import annotations

from shopify_loyalty.services.outbox import DEACTIVATE_DISCOUNT, FULFIL_REWARD

SHOP_LANES = 16
LANED_TASKS = frozenset({FULFIL_REWARD, DEACTIVATE_DISCOUNT})


def lane_queue(main_queue: str, shop_id: int) -> str:
    return f"{main_queue}.shop.{shop_id % SHOP_LANES}"


def queue_for(main_queue: str, task_name: str, shop_id: int | None) -> str | None:
    """Where the task goes: its shop's lane for Shopify work; None for the others, which take
    their route (the main queue, or the events queue for deliveries: jobs.setup)."""
    if shop_id is not None and task_name in LANED_TASKS:
        return lane_queue(main_queue, shop_id)
    return None


def worker_queues(main_queue: str) -> list[str]:
    """Every queue a worker consumes (``celery worker --queues`` takes them comma-separated)."""
    return [main_queue, *(lane_queue(main_queue, n) for n in range(SHOP_LANES))]
