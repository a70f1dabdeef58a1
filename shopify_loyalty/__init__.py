"""Loyalty-points backend for Shopify stores."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_smorest import Api

from shopify_loyalty.api.input_guard import install_input_guard
from shopify_loyalty.api.observe import install_request_hooks
from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY, Settings
from shopify_loyalty.db import Database
from shopify_loyalty.errors import register_error_handlers
from shopify_loyalty.shopify.install_calls import AdminEndpoint
from shopify_loyalty.shopify.oauth import AppCredentials
from shopify_loyalty.telemetry import logs, metrics
from shopify_loyalty.token_cipher import TokenCipher

log = logging.getLogger(__name__)


class LoyaltyApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, documenting errors in our one JSON shape."""

    from shopify_loyalty.api.schemas import ErrorSchema as ERROR_SCHEMA


def create_app(settings: Settings | None = None, **flask_config: Any) -> Flask:
    """The app: config → db → celery → blueprints → errors → cli."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        API_TITLE="Shopify Loyalty",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.config.update(flask_config)
    if app.testing:
        logs.install_request_id_on_records()  # pytest keeps its own handlers
    else:
        logs.configure(settings.log_format)
    metrics.mark_process_up()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from shopify_loyalty.api.fields import BoundedInt

    app.url_map.converters["int"] = BoundedInt
    if settings.token_encryption_key == DEV_TOKEN_ENCRYPTION_KEY:
        log.warning(
            "TOKEN_ENCRYPTION_KEY is the built-in development key: shop tokens stored now "
            "can be read by anyone with this source. Set TOKEN_ENCRYPTION_KEY in production."
        )
    app.extensions["loyalty_settings"] = settings

    db = Database(settings.database_url)
    app.extensions["loyalty_db"] = db

    from shopify_loyalty.jobs.dispatch import OutboxDispatcher
    from shopify_loyalty.jobs.setup import celery_init_app

    celery_app = celery_init_app(app, settings)
    celery_app.loader.import_default_modules()
    lease = timedelta(seconds=settings.task_lease_seconds)
    dispatcher = OutboxDispatcher(celery_app, db, lease)
    db.dispatch_after_commit(dispatcher, lease)
    app.extensions["loyalty_dispatcher"] = dispatcher

    from shopify_loyalty.api import (
        external,
        health,
        install,
        observe,
        referrals,
        storefront,
        storefront_earning,
        webhooks,
    )
    from shopify_loyalty.api.admin import customers as admin_customers
    from shopify_loyalty.api.admin import dashboard as admin_dashboard
    from shopify_loyalty.api.admin import events as admin_events
    from shopify_loyalty.api.admin import exports as admin_exports
    from shopify_loyalty.api.admin import program as admin_program
    from shopify_loyalty.api.admin import referrals as admin_referrals
    from shopify_loyalty.api.admin import rewards as admin_rewards
    from shopify_loyalty.api.admin import shop as admin_shop
    from shopify_loyalty.api.admin import tiers as admin_tiers
    from shopify_loyalty.api.admin_ui import pages as admin_pages
    from shopify_loyalty.api.admin_ui import sign_in as admin_sign_in
    from shopify_loyalty.api.context import proxy_name
    from shopify_loyalty.api.single_use import single_use_for
    from shopify_loyalty.services.shops import tokens as shop_tokens

    shopify_app = AppCredentials(settings.shopify_api_key, settings.api_secrets,
                                 settings.shopify_admin_base_url)
    app.extensions["loyalty_shopify_app"] = shopify_app
    app.extensions["loyalty_single_use"] = single_use_for(settings.redis_url)
    shop_tokens.configure(db, shop_tokens.TokenContext(
        shopify_app, TokenCipher(settings.token_encryption_key),
        AdminEndpoint(settings.shopify_admin_base_url, settings.shopify_api_version),
    ))

    from shopify_loyalty.api.ratelimit import init_limiter, limit_earning

    limiter = init_limiter(app, settings, storefront.blp, external.blp)
    limit_earning(limiter, storefront_earning.blp, referrals.blp, referrals.proxy_blp)
    from shopify_loyalty.api.spec_rules import SpecRulesPlugin, text_without_nul

    api = LoyaltyApi(app, spec_kwargs={"extra_plugins": [SpecRulesPlugin()]})
    api.ma_plugin.converter.add_attribute_function(text_without_nul)
    for blueprint in (storefront.blp, install.blp, admin_program.blp, admin_shop.blp,
                      admin_customers.blp, admin_rewards.blp, admin_exports.blp, external.blp,
                      admin_tiers.blp, admin_dashboard.blp):
        api.register_blueprint(blueprint)
    for blueprint in (storefront_earning.blp, referrals.blp, admin_referrals.blp,
                      admin_events.blp):
        api.register_blueprint(blueprint)
    # The same storefront API for Online Store themes, behind Shopify's app proxy.
    for blueprint in (storefront.blp, storefront_earning.blp):
        app.register_blueprint(blueprint, name=proxy_name(blueprint.name),
                               url_prefix="/proxy/cp/api")
    app.register_blueprint(referrals.proxy_blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(observe.blp)
    app.register_blueprint(admin_pages.blp)
    app.register_blueprint(admin_sign_in.blp)
    app.register_blueprint(webhooks.blp)
    app.register_blueprint(referrals.links)

    register_error_handlers(app)
    install_request_hooks(app)
    install_input_guard(app)

    from shopify_loyalty.cli import register_commands

    register_commands(app)
    return app
