"""The theme app extension holds together: the script parses (``node --check``), every word
it shows is translated in every locale, the blocks' schemas are valid and their labels
translated, and the block renders a config the script can read, for a customer and a guest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bench.widget_dev import EXTENSION, PROXY_PREFIX, SCHEMA, Block, StoreFront
from shopify_loyalty.models import ReferralState, RewardStatus

SCRIPT = EXTENSION / "assets" / "loyalty.js"
LOCALES = sorted((EXTENSION / "locales").glob("*.json"))
STOREFRONT = [p for p in LOCALES if not p.name.endswith(".schema.json")]
SCHEMA_LOCALES = [p for p in LOCALES if p.name.endswith(".schema.json")]
BLOCKS = sorted((EXTENSION / "blocks").glob("*.liquid"))
# The codes the storefront, birthday, social and referral endpoints answer with.
API_ERRORS = ("insufficient_points", "redeem_limit_reached", "customer_not_eligible",
              "redeem_rule_not_found", "request_in_progress", "validation_error",
              "dob_already_set", "earn_rule_not_found", "referral_not_found",
              "referral_not_allowed", "unauthorized", "too_many_requests", "network")
# Shopify's limit for an app block's settings.
MAX_SETTINGS = 25


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in tree.items():
        found |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return found


def _widget_strings(path: Path = EXTENSION / "locales" / "en.default.json") -> set[str]:
    return set(json.loads(path.read_text())["loyalty"]["widget"])


def _schema(path: Path) -> dict[str, Any]:
    found = SCHEMA.search(path.read_text())
    assert found, path.name
    schema: dict[str, Any] = json.loads(found.group(1))
    return schema


def test_the_script_parses() -> None:
    node = shutil.which("node")
    assert node, "Node.js runs the script check (apt-get install nodejs)"
    result = subprocess.run([node, "--check", str(SCRIPT)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_every_word_of_the_script_is_translated() -> None:
    source = SCRIPT.read_text()
    strings = _widget_strings()
    used = set(re.findall(r"\bt\('([a-z_A-Z]+)'\s*[,)]", source))
    assert used and used <= strings, used - strings
    # Keys the script builds from the API's values:
    built = ({f"status_{s.value}" for s in RewardStatus}
             | {f"referral_state_{s.value}" for s in ReferralState}
             | {f"error_{code}" for code in API_ERRORS}
             | {f"{base}_{form}" for base in ("points", "orders", "referral_count")
                for form in ("one", "other")})
    assert built <= strings, built - strings
    quoted = set(re.findall(r"'([a-z][a-z_A-Z]*)'", source))
    assert strings <= quoted | built, f"unused strings: {strings - quoted - built}"


@pytest.mark.parametrize("path", STOREFRONT + SCHEMA_LOCALES, ids=lambda p: p.name)
def test_every_locale_has_every_string(path: Path) -> None:
    default = "en.default.schema.json" if path.name.endswith(".schema.json") else "en.default.json"
    reference = _keys(json.loads((EXTENSION / "locales" / default).read_text()))
    assert _keys(json.loads(path.read_text())) == reference


def test_the_strings_snippet_hands_the_script_every_string() -> None:
    snippet = (EXTENSION / "snippets" / "loyalty-strings.liquid").read_text()
    listed = re.findall(r'"(\w+)": {{ \'loyalty\.widget\.(\w+)\' \| t \| json }}', snippet)
    assert all(name == key for name, key in listed)
    assert [name for name, _ in listed] == list(
        json.loads((EXTENSION / "locales" / "en.default.json").read_text())["loyalty"]["widget"])


@pytest.mark.parametrize("path", BLOCKS, ids=lambda p: p.name)
def test_the_block_schemas_are_valid_and_translated(path: Path) -> None:
    schema = _schema(path)
    assert schema["target"] in ("section", "body")
    for asset in (schema["javascript"], schema["stylesheet"]):
        assert (EXTENSION / "assets" / asset).is_file(), asset
    ids = [s["id"] for s in schema["settings"] if "id" in s]
    assert len(ids) == len(set(ids)) and len(schema["settings"]) <= MAX_SETTINGS
    labels = re.findall(r'"t:([\w.]+)"', json.dumps(schema))
    for locale in SCHEMA_LOCALES:
        keys = _keys(json.loads(locale.read_text()))
        assert set(labels) <= keys, (locale.name, set(labels) - keys)


def test_the_extension_is_a_theme_extension_on_the_apps_proxy() -> None:
    config = tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())
    assert config["type"] == "theme"
    app = tomllib.loads((EXTENSION.parents[1] / "shopify.app.toml").read_text())["app_proxy"]
    assert f"/{app['prefix']}/{app['subpath']}" == PROXY_PREFIX
    assert f'"proxyBase": "{PROXY_PREFIX}"' in (
        EXTENSION / "snippets" / "loyalty-panel.liquid").read_text()


@pytest.mark.parametrize("customer", [1001, None], ids=["customer", "guest"])
def test_the_block_renders_a_config_the_script_reads(customer: int | None) -> None:
    store = StoreFront("http://127.0.0.1:1", "s.myshopify.com", "secret", locale="fr",
                       blocks=[Block("loyalty.liquid", "b1", {"show_referral": False,
                                                              "title": "<Fidélité>"})])
    page = store.page(customer)
    [raw] = re.findall(r"<script type=\"application/json\" data-loyalty-config>(.*?)</script>",
                       page, re.S)
    config = json.loads(raw)
    assert config["signedIn"] is (customer is not None)
    assert config["sections"] == "tier,earn,redeem,my_rewards,"
    assert set(config["strings"]) == _widget_strings()
    assert config["strings"]["retry"] == "Réessayer"
    assert "&lt;Fidélité&gt;" in page  # the merchant's title is escaped
    assert ("Se connecter" in page) is (customer is None)
