"""The engine: app lifecycle, dispatch, outbox and deliverer, clock, rate limits."""
