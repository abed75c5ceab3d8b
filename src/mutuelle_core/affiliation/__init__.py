"""Affiliation: invitations, the follow-up, the employee journey, complete and forced affiliation, dispense."""
