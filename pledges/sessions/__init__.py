"""Dialogue sessions: organizers schedule them (alone or in series, one per check-in cycle),
signers answer whether they come, organizers take attendance (logged as an action for each
attendee), and the public sees the sessions, their counts and calendars, never who comes."""
