"""Importers of event datasets (UCDP GED, ACLED, GDELT 2.0) through the one write path."""
