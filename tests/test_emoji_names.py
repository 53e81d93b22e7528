"""The React picker's search by name (services.emoji_names)."""

from blabber.services.emoji_names import MAX_RESULTS, search_emoji


def test_names_and_aliases_find_their_emoji_best_first():
    assert search_emoji("thumbs up")[0] == ("👍", "thumbs up")
    assert search_emoji("+1")[0][0] == "👍"
    assert search_emoji("tada")[0][0] == "🎉"
    assert search_emoji("Party_Popper")[0][0] == "🎉"


def test_each_emoji_once_and_never_too_many():
    found = search_emoji("hand")
    assert len(found) == MAX_RESULTS
    assert len({e for e, _ in found}) == len(found)
    assert not any("skin tone" in name for _, name in search_emoji("thumbs"))


def test_nothing_for_nonsense():
    for query in ("", "   ", "zzzzqqq", None, ["thumbs"], "x" * 10_000):
        assert search_emoji(query) == []
