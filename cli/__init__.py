"""The composition root: the `copilot` command line and the wiring of every part; nothing imports it."""
