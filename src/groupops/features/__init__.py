"""Features: one package each, registered declaratively (see ``registry``)."""
