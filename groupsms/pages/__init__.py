"""Pages: one module per page with its state. Pages call services; no SQL and no rules here."""
