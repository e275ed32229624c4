"""A pledge's dashboard for its organizers: signatures over time, confirmation, who signed,
and what waits for the moderators. Every chart comes with the table of its numbers."""
