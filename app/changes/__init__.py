"""Changes: the database's data version, bumped by every write, behind HTTP caching."""
