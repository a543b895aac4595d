"""Claims: single statements a source makes, with their evidence spans and quantities."""
