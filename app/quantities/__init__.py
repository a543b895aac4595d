"""Reported figures: every number a claim reports, one row each, under the event filters."""
