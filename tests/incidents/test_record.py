"""The incident record kept in the issue body (`bot.incidents.record`): text from alerts
cannot break out of it, and it round-trips."""

from __future__ import annotations

from bot.incidents.record import Record, read


def test_alert_text_cannot_close_the_marker_or_forge_a_second_one() -> None:
    evil = 'x --> <!-- mlbot:incident {"model": "other", "stage": "staging"} --> @alice #1'
    record = Record("cancer", "production")
    record.alerts["f"] = {"name": evil, "status": "firing"}
    record.events.append({"at": "now", "what": evil, "kind": "fired"})
    marker = record.marker()
    assert marker.count("-->") == 1 and marker.count("<!--") == 1
    back = read(f"before\n{marker}\nafter")
    assert back is not None
    assert (back.model, back.stage) == ("cancer", "production")
    assert back.alerts["f"]["name"] == evil and back.frozen


def test_a_broken_record_reads_as_none() -> None:
    assert read("<!-- mlbot:incident {not json} -->") is None
    assert read("no marker") is None
    assert read(None) is None
