"""The form a rep fills in for a tool's arguments, built from the airline fixture's and the demo store's real
schemas: values typed through the widgets, prefills that come back unchanged, rows added and removed,
and problems named by their field's dotted path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget

from connectors.demo_store.store import DemoStore
from ui.sections.schema_form import SchemaForm

AIRLINE = {
    tool["name"]: tool["parameters"]
    for tool in json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "airline" / "tool_schemas.json").read_text("utf-8")
    )
}
BOOKING = {
    "user_id": "sara_doe_496",
    "origin": "SFO",
    "destination": "JFK",
    "flight_type": "round_trip",
    "cabin": "economy",
    "flights": [
        {"flight_number": "HAT001", "date": "2024-05-01"},
        {"flight_number": "HAT002", "date": "2024-05-08"},
    ],
    "passengers": [{"first_name": "Sara", "last_name": "Doe", "dob": "1990-01-01"}],
    "payment_methods": [{"payment_id": "credit_card_7815826", "amount": 412.5}],
    "total_baggages": 2,
    "nonfree_baggages": 0,
    "insurance": "no",
}
TRIP = {
    "type": "object",
    "$defs": {
        "Passenger": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "dob": {"type": "string", "format": "date"},
                "seat": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            },
            "required": ["name", "dob", "seat"],
        }
    },
    "properties": {
        "passengers": {"type": "array", "items": {"$ref": "#/$defs/Passenger"}, "minItems": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "note": {"type": ["string", "null"]},
        "vip": {"type": "boolean"},
        "channel": {"const": "phone"},
    },
    "required": ["passengers"],
}
"""Local refs, nullable values, formats, a scalar array with a limit, a boolean and a const."""


@pytest.fixture(scope="module")
def demo_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    store = DemoStore(tmp_path_factory.mktemp("store") / "demo-store.sqlite3")
    yield {spec.name: dict(spec.input_schema) for spec in store.tools()}
    store.close()


def form_for(qtbot, schema: dict[str, Any], values: dict[str, Any] | None = None) -> SchemaForm:  # type: ignore[no-untyped-def]
    form = SchemaForm(schema, values)
    qtbot.addWidget(form)
    form.resize(380, form.heightForWidth(380))
    return form


def line(form: SchemaForm, path: str) -> QLineEdit:
    editor = form.editor(path)
    assert isinstance(editor, QLineEdit), path
    return editor


def combo(form: SchemaForm, path: str) -> QComboBox:
    editor = form.editor(path)
    assert isinstance(editor, QComboBox), path
    return editor


def button(form: SchemaForm, name: str) -> QPushButton:
    """A button by what it says or, for Remove, by its accessible name ("Remove flight 2")."""
    found = [b for b in form.findChildren(QPushButton) if name in (b.text(), b.accessibleName())]
    assert len(found) == 1, (name, [b.accessibleName() or b.text() for b in form.findChildren(QPushButton)])
    return found[0]


def shown_messages(form: SchemaForm) -> list[str]:
    """The red lines under fields."""
    return [
        label.text()
        for label in form.findChildren(QLabel)
        if label.isVisibleTo(form) and "#a61b1b" in label.styleSheet()
    ]


def test_a_booking_typed_in_from_the_keyboard_gives_typed_json_arguments(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE["book_reservation"])
    assert form.values() == {"flights": [{}], "passengers": [{}], "payment_methods": [{}]}
    assert "user_id: required" in form.problems()
    assert "flights.0.flight_number: required" in form.problems()
    for path, text in [
        ("user_id", "sara_doe_496"),
        ("origin", "SFO"),
        ("destination", "JFK"),
        ("flights.0.flight_number", "HAT001"),
        ("flights.0.date", "2024-05-01"),
        ("passengers.0.first_name", "Sara"),
        ("passengers.0.last_name", "Doe"),
        ("passengers.0.dob", "1990-01-01"),
        ("payment_methods.0.payment_id", "credit_card_7815826"),
        ("payment_methods.0.amount", "412.50"),
        ("total_baggages", "2"),
        ("nonfree_baggages", "0"),
    ]:
        qtbot.keyClicks(line(form, path), text)
    combo(form, "flight_type").setCurrentIndex(2)
    combo(form, "cabin").setCurrentIndex(2)
    combo(form, "insurance").setCurrentIndex(2)
    button(form, "Add flight").click()
    qtbot.keyClicks(line(form, "flights.1.flight_number"), "HAT002")
    qtbot.keyClicks(line(form, "flights.1.date"), "2024-05-08")
    assert form.values() == BOOKING
    assert isinstance(form.values()["total_baggages"], int)
    assert form.problems() == []


@pytest.mark.parametrize(
    ("tool", "values"),
    [
        ("book_reservation", BOOKING),
        (
            "update_reservation_flights",
            {
                "reservation_id": "ZFA04Y",
                "cabin": "business",
                "flights": [{"flight_number": "HAT170", "date": "2024-05-20"}] * 3,
                "payment_id": "gift_card_7815826",
            },
        ),
        (
            "update_reservation_passengers",
            {
                "reservation_id": "ZFA04Y",
                "passengers": [
                    {"first_name": "Noah", "last_name": "Brown", "dob": "1990-01-01"},
                    {"first_name": "Mia", "last_name": "Brown", "dob": "2015-06-30"},
                ],
            },
        ),
        ("send_certificate", {"user_id": "sara_doe_496", "amount": 150}),
    ],
)
def test_airline_arguments_come_back_as_the_copilot_filled_them_in(qtbot, tool: str, values: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE[tool], values)
    assert form.values() == values
    assert json.dumps(form.values()) == json.dumps(values)  # types too: 150 stays an integer, 412.5 a float
    assert form.problems() == []
    assert shown_messages(form) == []


@pytest.mark.parametrize(
    ("tool", "values"),
    [
        ("refund_payment", {"order_id": "NW-11730", "amount": 86.5, "reason": "Damaged", "idempotency_key": "p-1"}),
        (
            "update_shipping_address",
            {
                "order_id": "NW-11730",
                "address": {
                    "name": "Marcus Bell",
                    "line1": "1 Main St",
                    "city": "Berlin",
                    "postal_code": "10115",
                    "country": "DE",
                },
                "idempotency_key": "p-2",
                "dry_run": False,
            },
        ),
        (
            "create_ticket",
            {
                "customer_id": "C-1001",
                "subject": "Late",
                "body": "Two weeks late.",
                "priority": "urgent",
                "idempotency_key": "p-3",
            },
        ),
    ],
)
def test_demo_store_arguments_come_back_as_the_copilot_filled_them_in(  # type: ignore[no-untyped-def]
    qtbot, demo_tools: dict[str, dict[str, Any]], tool: str, values: dict[str, Any]
) -> None:
    form = form_for(qtbot, demo_tools[tool], values)
    assert json.dumps(form.values()) == json.dumps(values)
    assert form.problems() == []


def test_number_text_is_converted_when_read_and_never_clamped(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(
        qtbot, AIRLINE["update_reservation_baggages"], {"reservation_id": "ZFA04Y", "payment_id": "gift_card_1"}
    )
    qtbot.keyClicks(line(form, "total_baggages"), "2.5")
    qtbot.keyClicks(line(form, "nonfree_baggages"), "abc")
    assert form.problems() == [
        "total_baggages: '2.5' is not a whole number",
        "nonfree_baggages: 'abc' is not a number",
    ]
    assert "total_baggages" not in form.values()
    assert shown_messages(form) == ["'2.5' is not a whole number", "'abc' is not a number"]
    line(form, "total_baggages").setText("100000")
    line(form, "nonfree_baggages").setText(" -3 ")
    assert form.values()["total_baggages"] == 100000
    assert form.values()["nonfree_baggages"] == -3
    assert form.problems() == []

    certificate = form_for(qtbot, AIRLINE["send_certificate"], {"user_id": "sara_doe_496", "amount": "1,50"})
    assert line(certificate, "amount").text() == "1,50"
    assert certificate.problems() == ["amount: '1,50' is not a number"]
    line(certificate, "amount").setText("1e3")
    assert certificate.values()["amount"] == 1000.0


def test_schema_problems_name_the_field_by_its_dotted_path(qtbot, demo_tools: dict[str, dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    form = form_for(
        qtbot,
        TRIP,
        {"passengers": [{"name": "Ann", "dob": "1990-01-01", "seat": "4A"}, {"name": "Bo", "dob": "x", "seat": None}]},
    )
    assert form.problems() == ["passengers.1.dob: 'x' is not a 'date'"]
    line(form, "passengers.1.name").clear()
    assert form.problems() == ["passengers.1.name: required", "passengers.1.dob: 'x' is not a 'date'"]

    address = form_for(
        qtbot,
        demo_tools["update_shipping_address"],
        {
            "order_id": "NW-11730",
            "address": {"name": "Marcus Bell", "country": "de"},
            "idempotency_key": "p-1",
            "coupon": "X",
        },
    )
    assert address.problems() == [
        "address.line1: required",
        "address.city: required",
        "address.postal_code: required",
        "address.country: 'de' is not in the expected form (Two-letter country code, e.g. DE)",
        "coupon: not an argument this tool takes",
    ]
    assert "'de' is not in the expected form (Two-letter country code, e.g. DE)" in shown_messages(address)
    unknown = address.editor("coupon")
    assert isinstance(unknown, QPlainTextEdit) and unknown.toPlainText() == '"X"'
    unknown.clear()
    assert "coupon" not in address.values()


def test_rows_are_added_and_removed_with_their_buttons_and_renumbered(qtbot) -> None:  # type: ignore[no-untyped-def]
    flights = [{"flight_number": f"HAT00{n}", "date": f"2024-05-0{n}"} for n in (1, 2, 3)]
    form = form_for(qtbot, AIRLINE["update_reservation_flights"], {"flights": flights})
    with qtbot.waitSignal(form.changed):
        button(form, "Remove flight 2").click()
    assert form.values()["flights"] == [flights[0], flights[2]]
    second = form.editor("flights.1")
    assert isinstance(second, QGroupBox) and second.title() == "Flight 2"
    assert form.editor("flights.2") is None
    with qtbot.waitSignal(form.changed):
        button(form, "Add flight").click()
    assert form.values()["flights"] == [flights[0], flights[2], {}]
    assert "flights.2.flight_number: required" in form.problems()
    button(form, "Remove flight 1").click()
    button(form, "Remove flight 1").click()
    button(form, "Remove flight 1").click()
    assert form.values()["flights"] == []
    assert form.editor("flights.0") is None

    tags = form_for(qtbot, TRIP)
    assert tags.values() == {"passengers": [{"seat": None}]}
    button(tags, "Add tag").click()
    button(tags, "Add tag").click()
    assert not button(tags, "Add tag").isEnabled()  # maxItems 2
    qtbot.keyClicks(line(tags, "tags.1"), "fragile")
    assert tags.values()["tags"] == [None, "fragile"]
    assert "tags.0: empty: fill it in or remove it" in tags.problems()
    button(tags, "Remove tag 1").click()
    assert tags.values()["tags"] == ["fragile"]
    assert button(tags, "Add tag").isEnabled()


def test_enums_are_combo_boxes_of_readable_choices(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE["update_reservation_flights"], {"cabin": "first"})
    cabin = combo(form, "cabin")
    choices = [cabin.itemText(i) for i in range(cabin.count())]
    assert choices == ["Choose…", "Basic economy", "Economy", "Business", "First (not one of the choices)"]
    assert cabin.currentIndex() == 4
    assert "cabin: 'first' is not one of ['basic_economy', 'economy', 'business']" in form.problems()
    cabin.setCurrentIndex(1)
    assert form.values()["cabin"] == "basic_economy"
    cabin.setCurrentIndex(0)
    assert "cabin" not in form.values() and "cabin: required" in form.problems()


def test_nullable_optional_and_boolean_fields(qtbot) -> None:  # type: ignore[no-untyped-def]
    blank = form_for(qtbot, TRIP)
    vip = blank.editor("vip")
    assert isinstance(vip, QCheckBox) and vip.text() == "Vip"
    vip.setFocus()
    qtbot.keyClick(vip, Qt.Key.Key_Space)
    assert blank.values()["vip"] is True
    assert combo(blank, "channel").itemText(1) == "Phone"
    combo(blank, "channel").setCurrentIndex(1)
    assert blank.values()["channel"] == "phone"

    prefilled = {
        "passengers": [{"name": "Ann", "dob": "1990-01-01", "seat": None}],
        "tags": [],
        "note": None,
        "vip": False,
    }
    form = form_for(qtbot, TRIP, prefilled)
    assert form.values() == prefilled
    assert form.problems() == []
    note = form.editor("note")
    assert isinstance(note, QLineEdit)
    note.setText("Window seat")
    assert form.values()["note"] == "Window seat"
    note.clear()
    assert form.values()["note"] is None  # the copilot's null, back when the rep empties the box


def test_changed_lets_a_host_enable_approve_only_without_problems(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE["send_certificate"], {"user_id": "sara_doe_496"})
    approve = QPushButton("Approve")
    qtbot.addWidget(approve)
    form.changed.connect(lambda: approve.setEnabled(not form.problems()))
    approve.setEnabled(not form.problems())
    assert not approve.isEnabled()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(line(form, "amount"), "25")
    assert approve.isEnabled()
    qtbot.keyClicks(line(form, "amount"), "x")
    assert not approve.isEnabled()


def test_labels_are_words_with_buddies_and_required_marks(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE["book_reservation"], {"user_id": "sara_doe_496"})
    captions = {label.text(): label for label in form.findChildren(QLabel) if label.buddy() is not None}
    assert captions["User id *"].buddy() is form.editor("user_id")
    assert captions["Payment id *"].buddy() is form.editor("payment_methods.0.payment_id")
    assert "Nonfree baggages *" in captions
    shown = [w.text() for w in form.findChildren(QLabel) + form.findChildren(QPushButton)]
    shown += [w.title() for w in form.findChildren(QGroupBox)]
    shown += [c.itemText(i) for c in form.findChildren(QComboBox) for i in range(c.count())]
    assert not [text for text in shown if "_" in text], "property names or enum values shown as they are"
    assert line(form, "origin").toolTip() == "The IATA code for the origin city, such as 'SFO'."
    assert line(form, "origin").placeholderText() == "e.g. SFO"
    assert form.minimumSizeHint().width() <= 380


def test_tab_moves_through_the_fields_in_order_rows_added_later_included(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, AIRLINE["update_reservation_flights"])
    button(form, "Add flight").click()
    focus: QWidget = line(form, "reservation_id")
    visited = []
    for _ in range(9):
        visited.append(focus.accessibleName() or focus.text())  # type: ignore[attr-defined]
        focus = focus.nextInFocusChain()
        while not focus.focusPolicy() & Qt.FocusPolicy.TabFocus:
            focus = focus.nextInFocusChain()
    assert visited == [
        "Reservation id",
        "Cabin",
        "Flight number",
        "Date",
        "Remove flight 1",
        "Flight number",
        "Date",
        "Remove flight 2",
        "Add flight",
    ]
