"""The bottom layer: configuration, the database, errors, vocabularies, the schema base,
pagination, the data version and the serving folder. It imports nothing else of the app."""
