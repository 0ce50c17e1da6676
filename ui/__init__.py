"""Qt widgets of the side panel; no business logic lives here."""
