"""The controlled vocabularies and what each value means."""
