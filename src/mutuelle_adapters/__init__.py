"""mutuelle_adapters: SQL, e-mail, file and in-memory implementations of the core's ports."""
