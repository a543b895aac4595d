"""Sources: the documents that claims come from."""
