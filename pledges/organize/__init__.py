"""The organizer pages under /organize/: pledges an organizer runs, and building them."""
