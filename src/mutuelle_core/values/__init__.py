"""Value objects: identifiers, money, dates, identity; validated at construction."""
