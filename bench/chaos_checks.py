"""The chaos run's end state, read after the queues drained: what must hold however the run
went. Each check returns violations (``{"check", "detail"}``); none may be found.

- the books: ``flask --app app ledger verify`` exits 0;
- every reward is DONE with exactly one Shopify object (its code in the stand-in names its
  id; a store credit is among its customer's credits, one credit per credited reward) or
  FAILED (refused, or expired before it was made) / REFUNDED with its points back in one
  REFUNDED row and no Shopify object left active; an expired reward's code is deactivated;
  no code or credit in the stand-in that no reward owns;
- one idempotency key, one reward (redemptions) or one ADJUSTED row (adjustments);
- every acknowledged order earned once, every acknowledged refund took back exactly its share.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from bench.chaos_stack import ROOT, Stack
from bench.chaos_traffic import Results
from bench.shopify_standin import StandIn

Violation = dict[str, str]


def drained(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        row = connection.execute(text(
            # A delivery retry due minutes from now (the schedule's 5 min, 30 min…) is work
            # waiting by design, not work left behind: chaos_events checks it is visible.
            "SELECT (SELECT count(*) FROM outbox WHERE completed_at IS NULL AND NOT"
            " (task_name = 'loyalty.deliver_event' AND due_at > now() + interval '20 seconds')),"
            " (SELECT count(*) FROM rewards WHERE fulfillment_status = 'PENDING'),"
            " (SELECT count(*) FROM webhook_events WHERE status = 'RECEIVED')")).one()
    return {"openOutbox": row[0], "pendingRewards": row[1], "receivedWebhooks": row[2]}


def wait_drained(engine: Engine, seconds: float) -> tuple[float, dict[str, int]]:
    """Poll until nothing is left to do, at most ``seconds``; the time it took and what was
    left."""
    started = time.monotonic()
    while True:
        left = drained(engine)
        if not any(left.values()) or time.monotonic() - started > seconds:
            return time.monotonic() - started, left
        time.sleep(1.0)


def ledger_verify(stack: Stack) -> tuple[dict[str, Any], list[Violation]]:
    answer = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "ledger", "verify"],
                            cwd=ROOT, env=stack.env("cli"), capture_output=True, text=True,
                            timeout=600)
    try:
        report: dict[str, Any] = json.loads(answer.stdout)
    except ValueError:
        return {}, [{"check": "ledger_verify", "detail": f"exit {answer.returncode}: "
                     f"{answer.stdout[-500:]} {answer.stderr[-500:]}"}]
    found = [{"check": f"ledger_verify:{v['check']}",
              "detail": f"shop {v['shopId']} customer {v['customerId']}: {v['detail']}"}
             for v in report.get("violations", [])]
    if answer.returncode != 0 and not found:
        found.append({"check": "ledger_verify", "detail": f"exit {answer.returncode}"})
    return report, found


def _rewards(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(
            "SELECT r.id, s.domain, r.reward_type, r.discount_code, r.discount_code_id,"
            " r.status, r.fulfillment_status, c.shopify_customer_id, r.redeem_rule_id"
            " FROM rewards r JOIN shops s ON s.id = r.shop_id"
            " LEFT JOIN customers c ON c.id = r.customer_id ORDER BY r.id")))


def reward_checks(engine: Engine, standin: StandIn) -> tuple[Counter[str], list[Violation]]:
    found: list[Violation] = []
    outcomes: Counter[str] = Counter()
    owned_codes: set[tuple[str, str]] = set()
    credited: Counter[tuple[str, str]] = Counter()
    owned_credits: set[str] = set()
    for (reward_id, domain, reward_type, code, shopify_id, status, fulfilment,
         customer, _rule) in _rewards(engine):
        outcomes[f"{status}/{fulfilment}"] += 1
        shop = standin.shops.get(domain)
        codes = shop.codes if shop else {}
        what = f"reward {reward_id} ({domain}, {reward_type}, {status}/{fulfilment})"
        if fulfilment == "PENDING":
            found.append({"check": "reward_pending", "detail": what})
            continue
        if reward_type == "STORE_CREDIT":
            if shopify_id:
                owned_credits.add(shopify_id)
                credited[(domain, f"gid://shopify/Customer/{customer}")] += 1
            elif status != "REFUNDED" and fulfilment != "FAILED":
                found.append({"check": "reward_without_shopify_object", "detail": what})
            continue
        key = (domain, (code or "").lower())
        owned_codes.add(key)
        made = codes.get(key[1])
        if status == "REFUNDED" or fulfilment == "FAILED":
            if made is not None and shop is not None and made not in shop.deactivated:
                found.append({"check": "refunded_reward_code_active",
                              "detail": f"{what}: {made}"})
        elif made is None or made != shopify_id:
            found.append({"check": "reward_code_not_in_shopify",
                          "detail": f"{what}: ours {shopify_id}, Shopify's {made}"})
        elif status == "EXPIRED" and shop is not None and made not in shop.deactivated:
            found.append({"check": "expired_reward_code_active", "detail": what})
    for domain, shop in standin.shops.items():
        for code, gid in shop.codes.items():
            if (domain, code) not in owned_codes:
                found.append({"check": "orphan_shopify_code", "detail": f"{domain} {code} {gid}"})
        for account, log in shop.credit_log.items():
            if len(log) != credited[(domain, account)]:
                found.append({"check": "store_credits_not_one_per_reward",
                              "detail": f"{domain} {account}: {len(log)} credits in Shopify, "
                                        f"{credited[(domain, account)]} rewards credited"})
            for entry in log:
                if entry["id"] not in owned_credits:
                    found.append({"check": "orphan_store_credit",
                                  "detail": f"{domain} {account} {entry['id']}"})
    return outcomes, found


def failed_rewards_refunded(engine: Engine) -> list[Violation]:
    """A reward never made (FAILED: refused, or expired before it was made) has its points
    back in exactly one REFUNDED row (ledger verify checks this for REFUNDED rewards only)."""
    with engine.connect() as connection:
        rows = list(connection.execute(text(
            "SELECT r.id, r.status, count(p.id) FROM rewards r LEFT JOIN point_transactions p"
            " ON p.shop_id = r.shop_id AND p.kind = 'REFUNDED' AND p.source_type = 'reward'"
            " AND p.source_id = r.id::text"
            " WHERE r.fulfillment_status = 'FAILED' AND r.points > 0"
            " GROUP BY r.id, r.status HAVING count(p.id) <> 1")))
    return [{"check": "failed_reward_not_refunded_once",
             "detail": f"reward {row[0]} ({row[1]}): {row[2]} REFUNDED rows"} for row in rows]


def idempotency_checks(engine: Engine, results: Results) -> list[Violation]:
    found: list[Violation] = []
    with engine.connect() as connection:
        reward_ids = {row[0] for row in connection.execute(text(
            "SELECT id FROM rewards WHERE redeem_rule_id IS NOT NULL"))}
        adjusted = Counter((row[0], row[1]) for row in connection.execute(text(
            "SELECT s.domain, p.source_id FROM point_transactions p"
            " JOIN shops s ON s.id = p.shop_id"
            " WHERE p.kind = 'ADJUSTED' AND p.source_type = 'admin'")))
    answered = set()
    for key, ids in results.redeemed.items():
        if len(ids) > 1:
            found.append({"check": "one_key_many_rewards", "detail": f"{key}: {sorted(ids)}"})
        answered |= ids
    for missing in sorted(answered - reward_ids):
        found.append({"check": "answered_reward_missing", "detail": f"reward {missing}"})
    unknown = sum(1 for line in results.unanswered if line.startswith("redeem "))
    if len(reward_ids) > len(answered) + unknown:
        found.append({"check": "rewards_nobody_asked_for",
                      "detail": f"{len(reward_ids)} rewards, {len(answered)} answered, "
                                f"{unknown} unanswered"})
    for (domain, key), ok in results.adjusted.items():
        rows = adjusted[(domain, f"admin:{key}")]
        if rows > 1 or (ok and rows != 1):
            found.append({"check": "adjustment_not_once",
                          "detail": f"{domain} key {key}: {rows} rows, answered {ok}"})
    return found


def order_checks(engine: Engine, results: Results) -> list[Violation]:
    found: list[Violation] = []
    with engine.connect() as connection:
        earned = Counter((row[0], int(row[1])) for row in connection.execute(text(
            "SELECT s.domain, p.source_id FROM point_transactions p"
            " JOIN shops s ON s.id = p.shop_id"
            " WHERE p.kind = 'EARNED' AND p.source_type = 'order'")))
        records = {(row[0], int(row[1])): row[2:] for row in connection.execute(text(
            "SELECT s.domain, o.order_id, o.earned_points, o.reversed_points, o.refund_basis,"
            " o.refunded_amount FROM order_points o JOIN shops s ON s.id = o.shop_id"))}
    sent = {order for order, acked in results.orders.items() if acked}
    for order in sorted(sent):
        if earned[order] != 1:
            found.append({"check": "order_not_earned_once",
                          "detail": f"{order}: {earned[order]} EARNED rows"})
    for order in sorted(set(earned) - set(results.orders)):
        found.append({"check": "order_earned_never_sent", "detail": str(order)})
    for (domain, _refund_id), (order_id, acked) in sorted(results.refunds.items()):
        record = records.get((domain, order_id))
        if not acked or record is None or (domain, order_id) not in sent:
            continue
        earned_points, reversed_points, basis, refunded = record
        cents = int(Decimal(refunded) * 100)
        share = earned_points * min(cents, int(Decimal(basis) * 100)) // int(Decimal(basis) * 100)
        if reversed_points != share:
            found.append({"check": "refund_share_wrong",
                          "detail": f"order {order_id} ({domain}): earned {earned_points}, "
                                    f"refunded {refunded} of {basis}, took back "
                                    f"{reversed_points}, share {share}"})
    return found


def webhook_and_outbox_checks(engine: Engine) -> list[Violation]:
    with engine.connect() as connection:
        failed = list(connection.execute(text(
            "SELECT id, topic, error FROM webhook_events WHERE status = 'FAILED'")))
        abandoned = list(connection.execute(text(
            "SELECT id, task_name, attempts FROM outbox WHERE abandoned")))
    return ([{"check": "webhook_failed", "detail": f"{row[0]} {row[1]}: {row[2]}"}
             for row in failed]
            + [{"check": "task_abandoned", "detail": f"outbox {row[0]} {row[1]} x{row[2]}"}
               for row in abandoned])
