"""The admin's event endpoints page in Chromium, on real rows: adding an endpoint through the
form (an unsafe URL's message under the field; the secret shown once, and the one that signs),
disable, enable, delete; the recent deliveries of events emitted in the database, the
"failed only" and endpoint filters, a replay that reaches a real receiver on 127.0.0.1, and
the page on a phone. Private addresses are allowed for the app (EVENT_ENDPOINTS_ALLOW_PRIVATE)
so that the receivers can listen on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from standardwebhooks import Webhook

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import Customer, EventDelivery, EventEndpoint, Shop
from shopify_loyalty.services.events import catalog, endpoints
from tests.browser.conftest import PHONE, Console, Seeded, shoot, sign_in
from tests.browser.test_admin_pages import OVERFLOW, UNLABELLED
from tests.integration.event_receiver import Receiver, receiving


@pytest.fixture
def allow_private(app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "loyalty_settings",
                        dataclasses.replace(settings, event_endpoints_allow_private=True))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as made:
        yield made


def emit(db: Database, shopify_id: int, event_type: str = catalog.POINTS_ADJUSTED) -> None:
    """One committed event of a seeded customer; its deliveries run right after the commit."""
    with db.unit_of_work() as session:
        customer = session.scalars(select(Customer).where(
            Customer.shopify_customer_id == shopify_id)).one()
        catalog.emit(session, customer, event_type, {"points": 5})


def add(db: Database, shop_id: int, url: str, policy: endpoints.EndpointPolicy) -> int:
    with db.unit_of_work() as session:
        row, _secret = endpoints.add_endpoint(session, session.get_one(Shop, shop_id), url,
                                              None, policy)
        return row.id


def test_an_endpoint_is_added_disabled_enabled_and_deleted(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console,
    allow_private: None, live_deliverer: Any, receiver: Receiver,
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.locator(".side-nav").get_by_role("link", name="Event endpoints").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Event endpoints")
    expect(main).to_contain_text("No endpoints yet")
    assert page.evaluate(UNLABELLED) == []

    url_field = main.get_by_label("Endpoint URL")
    url_field.fill("https://user:pw@hooks.example.com/loyalty")
    main.get_by_role("button", name="Add endpoint").click()
    expect(main.get_by_text("An endpoint URL may not carry a user name or password."))\
        .to_be_visible()
    expect(url_field).to_have_attribute("aria-invalid", "true")
    shoot(page, "event-endpoint-invalid")
    with committed_db.unit_of_work() as session:
        assert session.scalars(select(EventEndpoint)).all() == []

    url_field.fill(receiver.url)
    main.get_by_label("points.adjusted").check()
    main.get_by_label("tier.changed").check()
    main.get_by_role("button", name="Add endpoint").click()
    shown = main.get_by_role("status").filter(has_text="shown once")
    expect(shown).to_be_visible()
    expect(shown.get_by_role("button", name="Copy secret")).to_be_visible()
    secret = shown.locator(".mono").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{32}", secret), secret
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    shown.get_by_role("button", name="Copy secret").click()
    expect(page.locator(".toasts")).to_contain_text("Secret copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = main.get_by_role("region", name="Endpoints").get_by_role("row", name=receiver.url)
    expect(row).to_contain_text("points.adjusted, tier.changed")
    expect(row).to_contain_text("Enabled")
    shoot(page, "event-endpoint-added")
    with committed_db.unit_of_work() as session:
        made = session.scalars(select(EventEndpoint)).one()
        assert (made.shop_id, made.url, made.event_types, made.enabled) == (
            seeded.shop_id, receiver.url, ["points.adjusted", "tier.changed"], True)
    # The secret shown is the one that signs: the standardwebhooks package verifies it.
    emit(committed_db, 7001)
    (got,) = receiver.received
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "points.adjusted"
    page.reload()
    expect(main.get_by_role("heading", level=1)).to_have_text("Event endpoints")
    expect(main).not_to_contain_text(secret)  # shown once only

    main.get_by_role("button", name=f"Disable {receiver.url}").click()
    expect(page.locator(".toasts")).to_contain_text("Endpoint disabled")
    expect(row).to_contain_text("Disabled")
    expect(row).to_contain_text("disabled by the merchant")
    with committed_db.unit_of_work() as session:
        assert session.get_one(EventEndpoint, made.id).enabled is False
    main.get_by_role("button", name=f"Enable {receiver.url}").click()
    expect(row).to_contain_text("Enabled")
    with committed_db.unit_of_work() as session:
        assert session.get_one(EventEndpoint, made.id).enabled is True

    main.get_by_role("button", name=f"Delete {receiver.url}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("its deliveries are deleted with it")
    dialog.get_by_role("button", name="Delete").click()
    expect(main).to_contain_text("No endpoints yet")
    with committed_db.unit_of_work() as session:
        assert session.scalars(select(EventEndpoint)).all() == []


def test_deliveries_are_listed_filtered_and_replayed(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console,
    allow_private: None, live_deliverer: Any, policy: endpoints.EndpointPolicy,
) -> None:
    console.allow(r"status of 409")
    with receiving(answers=[500, 200]) as flaky, receiving() as steady:
        flaky_id = add(committed_db, seeded.shop_id, flaky.url, policy)
        add(committed_db, seeded.shop_id, steady.url, policy)
        theirs = add(committed_db, seeded.other_shop_id, "http://127.0.0.1:9/theirs", policy)
        emit(committed_db, 7001)
        assert (len(flaky.received), len(steady.received)) == (1, 1)

        sign_in(page, live_server)
        page.goto(f"{live_server}/app/events")
        main = page.locator("main")
        endpoints_card = main.get_by_role("region", name="Endpoints")
        expect(endpoints_card.get_by_role("row", name=flaky.url)).to_contain_text("All events")
        expect(endpoints_card).not_to_contain_text("/theirs")  # another shop's
        failing_since = endpoints_card.get_by_role("row", name=flaky.url).locator("td").nth(3)
        expect(failing_since).to_contain_text(re.compile(r"\d{4}, \d+:\d\d"))
        expect(endpoints_card.get_by_role("row", name=steady.url).locator("td").nth(3))\
            .to_have_text("—")
        recent = main.get_by_role("region", name="Recent deliveries")
        rows = recent.locator("tbody tr")
        expect(rows).to_have_count(2)
        failing = rows.filter(has_text=flaky.url)
        expect(failing).to_contain_text("Retrying")
        expect(failing).to_contain_text("HTTP 500")
        expect(failing).to_contain_text("Next try")
        expect(rows.filter(has_text=steady.url)).to_contain_text("Delivered")
        expect(rows.filter(has_text=steady.url)).to_contain_text("HTTP 200")
        assert page.evaluate(UNLABELLED) == []
        shoot(page, "page-event-endpoints")

        recent.get_by_label("Failed only").check()
        expect(page).to_have_url(re.compile(r"/app/events\?failed=1$"))
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(flaky.url)
        recent = main.get_by_role("region", name="Recent deliveries")
        recent.get_by_label("Failed only").uncheck()
        expect(rows).to_have_count(2)
        recent.get_by_label("Endpoint", exact=True).select_option(label=flaky.url)
        expect(page).to_have_url(re.compile(rf"/app/events\?endpoint={flaky_id}$"))
        expect(rows).to_have_count(1)

        with committed_db.unit_of_work() as session:
            delivery = session.scalars(select(EventDelivery).where(
                EventDelivery.endpoint_id == flaky_id)).one()
            delivery_id = delivery.id
        main.get_by_role("button", name=f"Replay delivery {delivery_id}").click()
        result = main.get_by_role("status").filter(has_text="replayed")
        expect(result).to_contain_text(f"Delivery {delivery_id} replayed: delivered (HTTP 200).")
        expect(result).to_contain_text("2 attempts so far.")
        expect(rows.first).to_contain_text("Delivered")
        expect(rows.first.locator("td").nth(2)).to_have_text("2")  # attempts
        shoot(page, "event-delivery-replayed")
        expect(failing_since).to_have_text("—")  # a success ends the failing streak
        assert len(flaky.received) == 2
        assert flaky.received[0].headers["webhook-id"] == flaky.received[1].headers["webhook-id"]
        with committed_db.unit_of_work() as session:
            done = session.get_one(EventDelivery, delivery_id)
            assert (done.status.value, done.attempts, done.last_status_code) == (
                "DELIVERED", 2, 200)

        # A disabled endpoint's delivery is not replayed: the API's 409 in words.
        main.get_by_role("button", name=f"Disable {flaky.url}").click()
        expect(endpoints_card.get_by_role("row", name=flaky.url)).to_contain_text("Disabled")
        main.get_by_role("button", name=f"Replay delivery {delivery_id}").click()
        expect(page.locator(".toasts")).to_contain_text("endpoint is disabled: enable it first")
        assert len(flaky.received) == 2
        with committed_db.unit_of_work() as session:
            assert session.get_one(EventEndpoint, theirs).enabled is True


def test_the_events_page_fits_a_phone(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database,
    allow_private: None, live_deliverer: Any, policy: endpoints.EndpointPolicy,
    receiver: Receiver,
) -> None:
    add(committed_db, seeded.shop_id, receiver.url + "/a-rather-long-path/for-a-phone", policy)
    emit(committed_db, 7001)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/events")
    page.locator("main h1").wait_for()
    expect(page.locator("main tbody tr")).to_have_count(2)  # the endpoint, its delivery
    page.wait_for_load_state("networkidle")
    assert page.evaluate(OVERFLOW) <= 0
    # The cards clip what overflows them: the endpoint filter (long URLs) must fit in.
    box = page.locator("main").get_by_label("Endpoint", exact=True).bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    shoot(page, "phone-app-events")
