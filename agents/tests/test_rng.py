"""The named random streams: reproducible, independent and unbiased enough."""

from __future__ import annotations

from collections import Counter

from agents.rng import Stream, Streams


def test_same_seed_turn_and_name_give_the_same_numbers():
    a = Stream(7, 3, "combat")
    b = Stream(7, 3, "combat")
    assert [a.next_u64() for _ in range(20)] == [b.next_u64() for _ in range(20)]


def test_seed_turn_and_name_each_change_the_numbers():
    base = [Stream(7, 3, "combat").next_u64() for _ in range(1)]
    assert [Stream(8, 3, "combat").next_u64()] != base
    assert [Stream(7, 4, "combat").next_u64()] != base
    assert [Stream(7, 3, "world").next_u64()] != base


def test_opening_another_stream_does_not_shift_a_stream():
    alone = Streams(11, 2)
    expected = [alone("world").randint(1, 100) for _ in range(10)]

    busy = Streams(11, 2)
    busy("npc:ada").randint(1, 6)
    got = []
    for _ in range(10):
        busy("combat").below(1000)
        got.append(busy("world").randint(1, 100))
    assert got == expected


def test_randint_stays_within_both_bounds_and_reaches_them():
    roll = Stream(1, 1, "dice")
    seen = Counter(roll.randint(1, 6) for _ in range(3000))
    assert set(seen) == {1, 2, 3, 4, 5, 6}
    # Roughly uniform: each face within a generous band of 500.
    assert all(400 < count < 600 for count in seen.values())


def test_weighted_choice_follows_integer_weights():
    roll = Stream(2, 1, "w")
    seen = Counter(
        roll.weighted(["rare", "common", "never"], [1, 9, 0]) for _ in range(2000)
    )
    assert seen["never"] == 0
    assert 100 < seen["rare"] < 320
    assert seen["common"] > 1600


def test_shuffle_is_a_permutation_and_deterministic():
    items = list(range(20))
    a, b = list(items), list(items)
    Stream(3, 1, "s").shuffle(a)
    Stream(3, 1, "s").shuffle(b)
    assert a == b
    assert sorted(a) == items
    assert a != items


def test_choice_and_chance_use_the_stream():
    roll = Stream(4, 1, "c")
    picks = {roll.choice("abc") for _ in range(100)}
    assert picks == {"a", "b", "c"}
    assert not any(Stream(5, 1, "x").chance(0) for _ in range(50))
    always = Stream(5, 1, "y")
    assert all(always.chance(100) for _ in range(50))
