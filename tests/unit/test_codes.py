"""The discount codes: length, alphabet and every symbol equally likely in every place."""

from __future__ import annotations

from collections import Counter

from shopify_loyalty.services.rewards.codes import CODE_ALPHABET, CODE_LENGTH, generate_code


def test_a_code_is_the_prefix_and_twelve_symbols_of_the_alphabet() -> None:
    code = generate_code("loy-")
    assert code.startswith("LOY-") and len(code) == 4 + CODE_LENGTH
    assert set(code[4:]) <= set(CODE_ALPHABET)


def test_every_symbol_is_drawn_about_as_often_in_every_place() -> None:
    draws = 6200  # 200 per symbol expected in each place
    places = [Counter[str]() for _ in range(CODE_LENGTH)]
    for _ in range(draws):
        for place, symbol in zip(places, generate_code(""), strict=True):
            place[symbol] += 1
    for place in places:
        assert set(place) == set(CODE_ALPHABET)
        # 200 expected, sd ~14: outside 110..290 is a broken generator, not bad luck.
        assert all(110 < count < 290 for count in place.values()), place


def test_codes_do_not_repeat() -> None:
    assert len({generate_code("") for _ in range(20000)}) == 20000
