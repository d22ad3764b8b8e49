"""Platform adapters: they translate between a platform and domain events/actions, nothing more."""
