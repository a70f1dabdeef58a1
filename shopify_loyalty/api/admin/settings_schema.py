"""The admin API's settings body: one field per setting of services.program.settings."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from shopify_loyalty.api.fields import MAX_MONEY, DecimalText, Flag
from shopify_loyalty.services.program import settings as shop_settings

# A decimal from 0 to MAX_MONEY (10**9), written out: digits, a point, digits.
DECIMAL_TO_MAX = r"^([0-9]{1,9}(\.[0-9]+)?|1000000000(\.0+)?)$"


def _setting_field(setting: shop_settings.Setting) -> fields.Field[Any]:
    """The API field of a setting; the service checks the value in full (bounds, patterns).

    Its help and kind go into the OpenAPI spec, so the admin pages build the settings form
    from it (admin_ui/static/admin/views/settings.js).
    """
    options: dict[str, Any] = {
        "allow_none": setting.default is None,
        "metadata": {"description": setting.help, "x-setting-kind": setting.kind.value,
                     "x-setting-group": setting.group},
    }
    kind = setting.kind
    if kind is shop_settings.Kind.TAGS:
        return fields.List(fields.String(validate=validate.Length(max=255)),
                           validate=validate.Length(max=shop_settings.MAX_TAGS), **options)
    if kind is shop_settings.Kind.CHOICE:
        if setting.labels:
            options["metadata"]["x-choice-labels"] = dict(zip(setting.choices, setting.labels,
                                                              strict=True))
        return fields.String(validate=validate.OneOf(setting.choices), **options)
    if kind is shop_settings.Kind.WHOLE:
        return fields.Integer(strict=True, validate=validate.Range(setting.low, setting.high),
                              **options)
    if kind is shop_settings.Kind.DAYS:
        return fields.List(fields.Integer(strict=True,
                                          validate=validate.Range(setting.low, setting.high)),
                           validate=validate.Length(max=shop_settings.MAX_DAYS_LIST), **options)
    if kind is shop_settings.Kind.SWITCH:
        return Flag(**options)
    if kind is shop_settings.Kind.MONEY:
        # A decimal string, so that 0.005 stays exact, written as the pattern says (from 0
        # to 10**9, the one money setting's bounds, which the service checks again).
        if setting.high != MAX_MONEY:
            raise ValueError(f"{setting.api}: DECIMAL_TO_MAX is for amounts to {MAX_MONEY}")
        options["metadata"].update(type="string", format="decimal")
        return DecimalText(DECIMAL_TO_MAX, as_string=True, places=None, allow_nan=False,
                           error_messages={"invalid": f"A decimal amount from 0 to {MAX_MONEY}."},
                           **options)
    # A text with a pattern is held to it here, as the spec says, before the service's check.
    checks: list[validate.Validator] = [validate.Length(max=255)]
    if setting.pattern:
        checks.append(validate.Regexp(setting.pattern))
    return fields.String(validate=checks, **options)


# One field per setting of services.program.settings, under its API name.
SettingsSchema = Schema.from_dict(
    {setting.api: _setting_field(setting) for setting in shop_settings.SETTINGS},
    name="SettingsSchema",
)
