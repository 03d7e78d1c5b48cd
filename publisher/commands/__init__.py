"""The commands of ``publisher``, one module per family; ``publisher.cli`` groups them."""
