"""File adapters: CSV import and export for French spreadsheets, documents on disk, SEPA files."""
