"""Follow-through: the actions signers log against the commitments they chose."""
